#include "config.h"

std::string Wallet::daemonAddress() const { return Address; }

std::string Wallet::daemonAddressLocked() const {
  std::lock_guard<std::mutex> Lock(RpcMu);
  return Address;
}

std::string Wallet::addressCopy() const { return Address; }

std::string Wallet::daemonAddressViaHelper() const { return addressCopy(); }

bool Wallet::hasDaemon() const { return !Address.empty(); }

std::vector<std::string> Wallet::labels() const { return Labels; }

std::string Wallet::proxy() const { return Proxy; }

std::vector<std::string> Wallet::nodes() const { return Nodes; }

void Wallet::startRefresh() {
  std::string Current = Address;
  Refresher = std::thread([this] { refresh(); });
}

void Wallet::stopRefresh() {
  if (Refresher.joinable())
    Refresher.join();
}
