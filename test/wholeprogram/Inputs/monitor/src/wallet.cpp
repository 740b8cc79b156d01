#include "config.h"

void Wallet::setDaemon(std::string NewAddress) {
  std::lock_guard<std::mutex> Lock(RpcMu);
  Address = std::move(NewAddress);
}

void Wallet::setLabel(std::size_t Index, std::string Label) {
  std::lock_guard<std::mutex> Lock(RpcMu);
  Labels[Index] = std::move(Label);
}

void Wallet::setProxy(std::string Value) { Proxy = std::move(Value); }

void Wallet::addNode(std::string Node) {
  std::lock_guard<std::mutex> Lock(NodesMu);
  Nodes.push_back(std::move(Node));
}

void Wallet::refresh() {
  std::lock_guard<std::mutex> Lock(RpcMu);
}
