// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Threads whose callable is a binder (std::bind, std::bind_front) or a
// std::function made from one, and thread handles on the heap (`new`,
// `reset(new ...)`, std::make_unique): the bound function runs on the thread
// with the bound arguments.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>

class Daemon {
public:
  void start() {
    Reader = new std::thread(std::bind(&Daemon::run, this));
    Pruner.reset(new std::thread(std::bind(&Daemon::prune, this, 5)));
  }
  void stop() {
    if (Reader) {
      Reader->join();
      delete Reader;
      Reader = nullptr;
    }
    if (Pruner)
      Pruner->join();
  }
  void add(int Key) { Routes[Key].push_back("r"); }
  // CHECK-FIXES: void add(int Key) { Routes.upsert(Key, [&](auto &value) { value.push_back("r"); }); }

private:
  void run() {
    for (int I = 0; I < 10; ++I)
      Routes[I].push_back("x");
    // CHECK-FIXES: Routes.upsert(I, [&](auto &value) { value.push_back("x"); });
    // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: 'Routes' is modified here on the thread started at line 20 while it is modified in 'Daemon::add', which may run concurrently with the thread started at line 20, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    // CHECK-MESSAGES: :[[@LINE-3]]:7: warning: 'Routes' is modified here on the thread started at line 20 while it is modified on the thread started at line 21, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  void prune(int Key) { Routes.erase(Key); }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Routes' is modified here on the thread started at line 21 while it is modified in 'Daemon::add', which may run concurrently with the thread started at line 21, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  std::thread *Reader = nullptr;
  std::unique_ptr<std::thread> Pruner;
  std::map<int, std::vector<std::string>> Routes;
  // CHECK-FIXES: concguard::snapshot_map<int, std::vector<std::string>, std::map<int, std::vector<std::string>>> Routes;
};

// The clean twin: the same starts, every access under one mutex.
class LockedDaemon {
public:
  void start() {
    Reader = new std::thread(std::bind(&LockedDaemon::run, this));
    Pruner.reset(new std::thread(std::bind(&LockedDaemon::prune, this, 5)));
  }
  void stop() {
    if (Reader) {
      Reader->join();
      delete Reader;
      Reader = nullptr;
    }
    if (Pruner)
      Pruner->join();
  }
  void add(int Key) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Routes[Key].push_back("r");
  }

private:
  void run() {
    std::lock_guard<std::mutex> Lock(Mutex);
    Routes[1].push_back("x");
  }
  void prune(int Key) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Routes.erase(Key);
  }
  std::thread *Reader = nullptr;
  std::unique_ptr<std::thread> Pruner;
  std::mutex Mutex;
  std::map<int, std::vector<std::string>> Routes;
};

void fill(std::map<int, int> &Counts) { Counts[1] = 2; }
// CHECK-MESSAGES: :[[@LINE-1]]:41: warning: 'Counts' is modified here on the thread started at line 105 while it is modified in 'sharedThroughPlaceholder' after it starts the thread at line 105, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
// CHECK-MESSAGES: :[[@LINE-2]]:41: warning: 'Counts' is modified here on the thread started at line 95 while it is modified in 'sharedThroughBind' after it starts the thread at line 95, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
void fillCopy(std::map<int, int> Counts) { Counts[1] = 2; }

void sharedThroughBind() {
  std::map<int, int> Counts;
  // std::ref in the bound arguments shares the map with the thread.
  std::thread T(std::bind(fill, std::ref(Counts)));
  Counts[3] = 4;
  T.join();
}

void sharedThroughPlaceholder() {
  std::map<int, int> Counts;
  // The placeholder stands for the thread's own argument: std::ref again.
  std::function<void(std::map<int, int> &)> Task =
      std::bind(fill, std::placeholders::_1);
  std::thread T(Task, std::ref(Counts));
  Counts[3] = 4;
  T.join();
}

void copiedIntoBinder() {
  std::map<int, int> Counts;
  // std::bind copies its arguments: the thread fills its own copy.
  std::thread T(std::bind(fill, Counts));
  std::thread U(std::bind_front(fillCopy), Counts);
  Counts[3] = 4;
  T.join();
  U.join();
}

void joinedBeforeTheWrite() {
  std::map<int, int> Counts;
  auto Task = std::make_unique<std::thread>(std::bind_front(fill),
                                            std::ref(Counts));
  Task->join();
  Counts[3] = 4;
}
