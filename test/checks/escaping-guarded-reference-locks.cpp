// RUN: %check_concguard -std=c++20 %s concguard-escaping-guarded-reference %t
// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// Each way of taking a lock, exclusive and shared: the escape is reported
// with the place where the lock is really taken and released.

#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

class Table {
public:
  // std::unique_lock taking the lock in its constructor.
  const int *uniqueLock(int K) {
    std::unique_lock<std::mutex> Lock(Mu);
    return &Rows[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Rows' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // std::unique_lock with defer_lock: the lock is taken by lock().
  const int *deferred(int K) {
    std::unique_lock<std::mutex> Lock(Mu, std::defer_lock);
    prepare();
    Lock.lock();
    return &Rows[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Rows' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // std::unique_lock with try_to_lock: held where owns_lock() said so.
  const int *tried(int K) {
    std::unique_lock<std::mutex> Lock(Mu, std::try_to_lock);
    if (!Lock.owns_lock())
      return nullptr;
    return &Rows[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Rows' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-4]]:10: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // A lock_guard adopting a lock taken by hand.
  const int *adopted(int K) {
    Mu.lock();
    std::lock_guard<std::mutex> Lock(Mu, std::adopt_lock);
    return &Rows[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Rows' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // std::scoped_lock over two mutexes: the escape names the one that guards
  // the member (the first one held).
  std::string &both(int K) {
    std::scoped_lock Lock(Mu, Other);
    return Names[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Names' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // std::lock then two adopting guards.
  std::string &stdLock(int K) {
    std::lock(Mu, Other);
    std::lock_guard<std::mutex> A(Mu, std::adopt_lock);
    std::lock_guard<std::mutex> B(Other, std::adopt_lock);
    return Names[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Names' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'A' releases 'Mu' here, when the function returns
  }

  // A shared (reader) lock: the escape is the same bug.
  const std::string *sharedRead(int K) {
    std::shared_lock<std::shared_mutex> Lock(Rw);
    auto It = Shared.find(K);
    return It == Shared.end() ? nullptr : &It->second;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Shared' outlives the lock on 'Rw'
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on 'Rw' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Rw' here, when the function returns
  }

  // An exclusive lock on a shared_mutex.
  std::string &exclusiveWrite(int K) {
    std::unique_lock<std::shared_mutex> Lock(Rw);
    return Shared[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Shared' outlives the lock on 'Rw'
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Rw' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Rw' here
  }

  // lock_shared()/unlock_shared() by hand, then a use.
  size_t manualShared(int K) {
    Rw.lock_shared();
    const std::string &S = Shared[K];
    Rw.unlock_shared();
    return S.size();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'S' refers into 'Shared' and is used after the lock on 'Rw' that guards it is released
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Rw' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Rw' is released here
  }

  // lock()/unlock() by hand.
  int manual(int K) {
    Mu.lock();
    int *P = &Rows[K];
    Mu.unlock();
    return *P;
    // CHECK-NOTES: :[[@LINE-1]]:13: warning: 'P' refers into 'Rows' and is used after the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // try_lock(): held on the success branch only.
  const int *tryLock(int K) {
    if (!Mu.try_lock())
      return nullptr;
    const int *P = &Rows[K];
    Mu.unlock();
    return P;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'P' refers into 'Rows' and is used after the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-6]]:10: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // A timed unique_lock, checked through operator bool.
  const int *timed(int K) {
    std::unique_lock<std::timed_mutex> Lock(Timed, std::chrono::milliseconds(10));
    if (Lock)
      return &TimedRows[K];
    // CHECK-NOTES: :[[@LINE-1]]:14: warning: returned pointer into 'TimedRows' outlives the lock on 'Timed'
    // CHECK-NOTES: :[[@LINE-3]]:9: note: lock on 'Timed' taken here
    // CHECK-NOTES: :[[@LINE-3]]:7: note: 'Lock' releases 'Timed' here, when the function returns
    return nullptr;
  }

  // unlock() then lock() again: the reference taken before may dangle.
  int relocked(int K) {
    std::unique_lock<std::mutex> Lock(Mu);
    int &R = Rows[K];
    Lock.unlock();
    prepare();
    Lock.lock();
    return R;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'R' refers into 'Rows' and is used after the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-7]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-6]]:5: note: 'Mu' is released here
  }

  // A guard moved into another guard: the second one releases the lock.
  std::string &moved(int K) {
    std::unique_lock<std::mutex> First(Mu);
    std::unique_lock<std::mutex> Second(std::move(First));
    return Names[K];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Names' outlives the lock on 'Mu'
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Second' releases 'Mu' here, when the function returns
  }

  static void prepare();

private:
  std::mutex Mu;
  std::mutex Other;
  std::shared_mutex Rw;
  std::timed_mutex Timed;
  std::map<int, int> Rows;
  std::map<int, int> TimedRows;
  std::map<int, std::string> Names;
  std::map<int, std::string> Shared;
};
