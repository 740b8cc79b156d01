#include "service/session_store.h"

#include <chrono>

namespace service {

void SessionStore::append(std::int64_t User, std::string Event) {
  Sessions[User].push_back(std::move(Event));
}

std::size_t SessionStore::eventCount(std::int64_t User) const {
  auto It = Sessions.find(User);
  return It == Sessions.end() ? 0 : It->second.size();
}

void SessionStore::startIngest() {
  Ingest = std::thread(&SessionStore::ingestLoop, this);
}

void SessionStore::stopIngest() {
  Stopping = true;
  if (Ingest.joinable())
    Ingest.join();
}

void SessionStore::ingestLoop() {
  std::int64_t Next = 0;
  while (!Stopping) {
    append(Next % 16, "login");
    ++Next;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

} // namespace service
