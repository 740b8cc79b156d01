// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Monitors: a class that derives from a monitor base (lock() and unlock()
// by shape) or from std::mutex, and locks `*this`, guards its own members
// with that lock. A thread and a method that both hold the monitor do not
// race; one that does not hold it races with the other. No MutexTypes or
// LockGuardTypes configured.

#include <mutex>
#include <thread>
#include <vector>

template <typename T> class LockT {
public:
  explicit LockT(const T &Mutex) : Mutex(Mutex) { Mutex.lock(); }
  ~LockT() { Mutex.unlock(); }

private:
  const T &Mutex;
};

class Monitor {
public:
  typedef LockT<Monitor> Lock;
  void lock() const { Mu.lock(); }
  void unlock() const { Mu.unlock(); }

private:
  mutable std::mutex Mu;
};

class Jobs : public Monitor {
public:
  void start() { Worker = std::thread([this] { run(); }); }
  void stop() { Worker.join(); }
  // Clean: the thread holds the monitor too.
  void add(int Job) {
    Lock sync(*this);
    Pending.push_back(Job);
  }
  void addByHand(int Job) {
    lock();
    Pending.push_back(Job);
    unlock();
  }
  void addThroughThis(int Job) {
    this->lock();
    Pending.push_back(Job);
    this->unlock();
  }
  // The positive twin: no lock.
  void addUnlocked(int Job) { Done.push_back(Job); }

private:
  void run() {
    Lock sync(*this);
    Pending.clear();
    Done.clear();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Done' is modified here on the thread started at line 34 while it is modified in 'Jobs::addUnlocked', which may run concurrently with the thread started at line 34, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  std::vector<int> Pending, Done;
  std::thread Worker;
};

// A class that derives from std::mutex and locks itself with std guards.
class Inbox : public std::mutex {
public:
  void start() { Reader = std::thread(&Inbox::drain, this); }
  void stop() { Reader.join(); }
  void post(int M) {
    std::lock_guard<std::mutex> Guard(*this);
    Messages.push_back(M);
  }
  void postUnlocked(int M) { Log.push_back(M); }

private:
  void drain() {
    std::unique_lock<std::mutex> Guard(*this);
    Messages.clear();
    Log.clear();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Log' is modified here on the thread started at line 68 while it is modified in 'Inbox::postUnlocked', which may run concurrently with the thread started at line 68, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  std::vector<int> Messages, Log;
  std::thread Reader;
};

// A monitor's lock is its own object's: a thread that locks another
// monitor does not guard this one's members.
class Pair : public Monitor {
public:
  void start() {
    Worker = std::thread([this] {
      Lock sync(Other);
      Items.clear();
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'Items' is modified here on the thread started at line 92 while it is modified in 'Pair::put', which may run concurrently with the thread started at line 92, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    });
  }
  void stop() { Worker.join(); }
  void put(int I) {
    Lock sync(*this);
    Items.push_back(I);
  }

private:
  Monitor Other;
  std::vector<int> Items;
  std::thread Worker;
};

// CHECK-FIXES: #include <concguard/synchronized.hpp>
// CHECK-FIXES: Items.with_lock([&](auto &Items) { Items.clear(); });
// CHECK-FIXES: Items.with_lock([&](auto &Items) { Items.push_back(I); });
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Items;
