// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// The project's own mutex and guard, recognised by their shape without any
// MutexTypes or LockGuardTypes option.

#include <map>
#include <string>
#include <vector>

namespace port {
class Mutex {
public:
  void Lock();
  void Unlock();
};
} // namespace port

class MutexLock {
public:
  explicit MutexLock(port::Mutex *Mu) : Mu(Mu) { this->Mu->Lock(); }
  ~MutexLock() { this->Mu->Unlock(); }

private:
  port::Mutex *const Mu;
};

class Sessions {
public:
  std::string *user(int Id) {
    MutexLock Lock(&Mu);
    return &Users[Id];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Users' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  std::size_t firstLength() {
    Mu.Lock();
    const std::string &First = Users.front();
    Mu.Unlock();
    return First.size();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'First' refers into 'Users' and is used after the lock on 'Mu' that guards it is released
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // Clean twin: a copy leaves the lock.
  std::string userCopy(int Id) {
    MutexLock Lock(&Mu);
    return Users[Id];
  }

private:
  port::Mutex Mu;
  std::vector<std::string> Users;
};
