#include "config.h"

void Socket::bind(const std::string &Address) {
  OptionalLock Lock(ThreadSafe ? &Sync : nullptr);
  Endpoints[Address] = 0;
}

void Socket::connectPeer(const std::string &Address) {
  std::lock_guard<std::mutex> Lock(Sync);
  Endpoints[Address] = 1;
}

void Socket::disconnectPeer(const std::string &Address) {
  std::lock_guard<std::mutex> Lock(Sync);
  Endpoints.erase(Address);
}

void Socket::dropAll() { Endpoints.clear(); }

void Radio::join(const std::string &Group) {
  OptionalLock Lock(ThreadSafe ? &Sync : nullptr);
  Groups.push_back(Group);
}

void Radio::leave(const std::string &Group) {
  OptionalLock Lock(ThreadSafe ? &Sync : nullptr);
  if (!Groups.empty() && Groups.back() == Group)
    Groups.pop_back();
}

void Radio::attachPipe(const std::string &Group) { Groups.push_back(Group); }

std::map<std::string, int> Routes;
static std::mutex RoutesMu;

void addRoute(bool ThreadSafe, const std::string &Name) {
  OptionalLock Lock(ThreadSafe ? &RoutesMu : nullptr);
  Routes[Name] = 1;
}
