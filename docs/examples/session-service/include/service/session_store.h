// Sessions by user id: the history of each user's events.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace service {

class SessionStore {
public:
  /// Records an event for a user (called by the ingest thread).
  void append(std::int64_t User, std::string Event);
  /// The number of events of a user (called by request handlers).
  std::size_t eventCount(std::int64_t User) const;
  /// Starts the ingest thread that appends events from the queue.
  void startIngest();
  void stopIngest();

private:
  void ingestLoop();

  // BUG (concguard-unsynchronized-container): written by the ingest thread,
  // read by request handlers, no lock.
  std::unordered_map<std::int64_t, std::vector<std::string>> Sessions;
  std::thread Ingest;
  std::atomic<bool> Stopping{false};
};

} // namespace service
