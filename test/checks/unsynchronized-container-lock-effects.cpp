// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Functions that acquire and keep a lock, or release the lock their caller
// holds: `lockQueue(); Q.push_back(X); unlockQueue();` is under the mutex.

#include <mutex>
#include <thread>
#include <vector>

class Pump {
public:
  void start() { Worker = std::thread(&Pump::run, this); }
  void stop() { Worker.join(); }
  void push(int X) {
    lockQueue();
    Queue.push_back(X);
    unlockQueue();
  }
  // Positive twin: the helper locks and unlocks on every path, so it
  // leaves nothing held.
  void pushAfterCheck(int X) {
    check();
    Backlog.push_back(X);
  }

private:
  void lockQueue() { Mu.lock(); }
  void unlockQueue() { Mu.unlock(); }
  void check() {
    Mu.lock();
    Mu.unlock();
  }
  void run() {
    std::lock_guard<std::mutex> Guard(Mu);
    Queue.clear();
    Backlog.clear();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Backlog' is modified here on the thread started at line 12 while it is modified in 'Pump::pushAfterCheck', which may run concurrently with the thread started at line 12, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  std::mutex Mu;
  std::vector<int> Queue, Backlog;
  std::thread Worker;
};

// A helper that takes the mutex by reference, and one that releases the
// caller's lock before the access.
void lockIt(std::mutex &M) { M.lock(); }
void unlockIt(std::mutex &M) { M.unlock(); }

class Store {
public:
  void start() { Worker = std::thread([this] { drain(); }); }
  void stop() { Worker.join(); }
  void put(int X) {
    lockIt(Mu);
    Items.push_back(X);
    unlockIt(Mu);
  }
  void putLate(int X) {
    lockIt(Mu);
    unlockIt(Mu);
    Late.push_back(X);
  }

private:
  void drain() {
    std::lock_guard<std::mutex> Guard(Mu);
    Items.clear();
    Late.clear();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Late' is modified here on the thread started at line 51 while it is modified in 'Store::putLate', which may run concurrently with the thread started at line 51, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  std::mutex Mu;
  std::vector<int> Items, Late;
  std::thread Worker;
};
