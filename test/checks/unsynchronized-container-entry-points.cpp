// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- \
// RUN:   -config="{CheckOptions: {concguard.SpawnFunctions: 'Pool::submit:1'}}" -- -isystem %runtime_include

// Which functions run beside a thread: a private member function is no
// entry point (its callers are walked into it with their locks), and a
// spawn function's waiter ends the task's region when waited on.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class Timer {
public:
  void start() { Worker = std::thread(&Timer::run, this); }
  void stop() { Worker.join(); }
  void cancelAll() {
    std::lock_guard<std::mutex> Lock(Mutex);
    cancelAllWithLock();
  }
  void cancelUnlocked() { dropOne(); }

private:
  // Called only with Mutex held: not a race.
  void cancelAllWithLock() { Tasks.clear(); }
  // Called without the lock by cancelUnlocked: reported through it.
  void dropOne() { Tasks.erase("first"); }
  void run() {
    std::lock_guard<std::mutex> Lock(Mutex);
    Tasks["tick"] = 1;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Tasks' is modified here on the thread started at line 17 while it is modified in 'Timer::dropOne', which may run concurrently with the thread started at line 17, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  std::mutex Mutex;
  std::map<std::string, int> Tasks;
  std::thread Worker;
};

struct Waiter {
  void wait();
};
struct Pool {
  void submit(Waiter *W, std::function<void()> Task);
};

std::vector<int> Results;

void waitedFor(Pool &P) {
  Waiter W;
  P.submit(&W, [] { Results.push_back(1); });
  W.wait();
  Results.push_back(2);
}

void notWaitedFor(Pool &P) {
  Waiter W;
  P.submit(&W, [] { Results.push_back(3); });
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: 'Results' is modified here on the thread started at line 58 while it is modified in 'notWaitedFor' after it starts the thread at line 58, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Results.push_back(4);
  W.wait();
}

// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: Tasks.insert_or_assign("tick", 1);
// CHECK-FIXES: concguard::snapshot_map<std::string, int, std::map<std::string, int>> Tasks;
