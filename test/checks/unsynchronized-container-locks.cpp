// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Which locks guard which accesses: a race needs no mutex held at both
// accesses, exclusively by each access that writes.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

void use(std::size_t);

std::mutex Mu;
std::mutex Other;
std::shared_mutex RW;

void fullyLocked() {
  std::map<int, int> M;
  std::thread T([&] {
    std::lock_guard<std::mutex> Lock(Mu);
    M[1] = 2;
  });
  {
    std::lock_guard<std::mutex> Lock(Mu);
    use(M.size());
  }
  T.join();
}

void lockedWriterUnlockedReader() {
  std::map<int, int> M;
  std::thread T([&] {
    std::lock_guard<std::mutex> Lock(Mu);
    M[1] = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'M' is modified here on the thread started at line [[@LINE-3]] while it is read in 'lockedWriterUnlockedReader' after it starts the thread at line [[@LINE-3]], with no mutex held at both accesses
  });
  use(M.size());
  T.join();
}

void differentMutexes() {
  std::vector<int> V;
  std::thread T([&] {
    std::lock_guard<std::mutex> Lock(Mu);
    V.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'V' is modified here on the thread started at line [[@LINE-3]] while it is read in 'differentMutexes'
  });
  {
    std::lock_guard<std::mutex> Lock(Other);
    use(V.size());
  }
  T.join();
}

void writeUnderSharedLock() {
  std::map<int, std::string> M;
  std::thread T([&] {
    std::shared_lock<std::shared_mutex> Lock(RW);
    M[1] = "one"; // a write under a reader lock is not guarded
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'M' is modified here on the thread started at line [[@LINE-3]] while it is read in 'writeUnderSharedLock'
  });
  {
    std::shared_lock<std::shared_mutex> Lock(RW);
    use(M.count(1));
  }
  T.join();
}

void readerWriterLocked() {
  std::map<int, std::string> M;
  std::thread T([&] {
    std::unique_lock<std::shared_mutex> Lock(RW);
    M[1] = "one";
  });
  {
    std::shared_lock<std::shared_mutex> Lock(RW);
    use(M.count(1));
  }
  T.join();
}

void releasedEarly() {
  std::vector<int> V;
  std::thread T([&] {
    std::unique_lock<std::mutex> Lock(Mu);
    V.push_back(1);
    Lock.unlock();
    V.push_back(2);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'V' is modified here on the thread started at line [[@LINE-5]] while it is read in 'releasedEarly'
  });
  {
    std::lock_guard<std::mutex> Lock(Mu);
    use(V.size());
  }
  T.join();
}

void sizeReadWithoutLock() {
  std::deque<int> Q;
  std::thread T([&] {
    std::lock_guard<std::mutex> Lock(Mu);
    Q.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Q' is modified here on the thread started at line [[@LINE-3]] while it is read in 'sizeReadWithoutLock'
  });
  if (Q.size() > 10)
    use(0);
  T.join();
}

void scopedLockOverTwoMutexes() {
  std::map<int, int> A;
  std::thread T([&] {
    std::scoped_lock Lock(Mu, Other);
    A[1] = 1;
  });
  {
    std::scoped_lock Lock(Other, Mu);
    use(A.size());
  }
  T.join();
}

void manualLockUnlock() {
  std::vector<int> V;
  std::thread T([&] {
    Mu.lock();
    V.push_back(1);
    Mu.unlock();
  });
  Mu.lock();
  use(V.size());
  Mu.unlock();
  T.join();
}

void tryLockSuccessBranch() {
  std::vector<int> V;
  std::thread T([&] {
    if (Mu.try_lock()) {
      V.push_back(1);
      Mu.unlock();
    }
  });
  std::lock_guard<std::mutex> Lock(Mu);
  use(V.size());
  T.join();
}

// The lock is taken by the caller; the access is in the callee.
void appendLocked(std::vector<int> &V) { V.push_back(1); }

void lockHeldAtTheCall() {
  std::vector<int> V;
  std::thread T([&] {
    std::lock_guard<std::mutex> Lock(Mu);
    appendLocked(V);
  });
  std::lock_guard<std::mutex> Lock(Mu);
  use(V.size());
  T.join();
}

void appendUnlocked(std::vector<int> &V) {
  V.push_back(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'V' is modified here on the thread started at line [[@LINE+5]] while it is read in 'lockNotHeldAtTheCall'
}

void lockNotHeldAtTheCall() {
  std::vector<int> V;
  std::thread T([&] { appendUnlocked(V); });
  use(V.size());
  T.join();
}

// A condition-variable queue: every access under the queue's mutex.
class WorkQueue {
public:
  void push(int Item) {
    {
      std::lock_guard<std::mutex> Lock(QueueMutex);
      Items.push_back(Item);
    }
    Ready.notify_one();
  }
  int pop() {
    std::unique_lock<std::mutex> Lock(QueueMutex);
    Ready.wait(Lock, [this] { return !Items.empty(); });
    int Item = Items.front();
    Items.pop_front();
    return Item;
  }
  void consume() {
    Worker = std::thread([this] {
      for (int I = 0; I < 10; ++I)
        use(pop());
    });
  }
  ~WorkQueue() {
    if (Worker.joinable())
      Worker.join();
  }

private:
  std::mutex QueueMutex;
  std::condition_variable Ready;
  std::deque<int> Items;
  std::thread Worker;
};

// Project-specific guards and mutexes (options MutexTypes, LockGuardTypes)
// are covered by unsynchronized-container-options.cpp.

// The fix-its: concguard-rewrite's rewrite of the maps used in this file
// alone (see unsynchronized-container-fixits.cpp).
// CHECK-FIXES:      #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES-NEXT: #include <condition_variable>
// CHECK-FIXES: concguard::snapshot_map<int, int, std::map<int, int>> M;
// CHECK-FIXES: M.insert_or_assign(1, 2);
// CHECK-FIXES: concguard::snapshot_map<int, std::string, std::map<int, std::string>> M;
// CHECK-FIXES: M.insert_or_assign(1, "one"); // a write under a reader lock is not guarded
