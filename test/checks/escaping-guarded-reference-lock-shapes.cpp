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

// Acquire/Release spell lock and unlock too: a spin lock and its guard.
class SpinLock {
public:
  void Acquire();
  void Release();
};

class SpinGuard {
public:
  explicit SpinGuard(SpinLock &Lock) : Lock(Lock) { Lock.Acquire(); }
  ~SpinGuard() { Lock.Release(); }

private:
  SpinLock &Lock;
};

class Routes {
public:
  const std::string *route(int Id) {
    SpinGuard Guard(Spin);
    return &Table[Id];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Table' outlives the lock on 'Spin' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Spin' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Guard' releases 'Spin' here, when the function returns
  }

  std::size_t firstLength() {
    Spin.Acquire();
    const std::string &First = Table.begin()->second;
    Spin.Release();
    return First.size();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'First' refers into 'Table' and is used after the lock on 'Spin' that guards it is released
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Spin' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Spin' is released here
  }

private:
  SpinLock Spin;
  std::map<int, std::string> Table;
};

// Not locks: a pool whose Acquire hands out a resource and whose Release
// takes it back (they take or return something), so a pointer kept across
// them is no escape.
class Pool {
public:
  std::string *Acquire();
  void Release(std::string *Item);
};

class Borrower {
public:
  std::size_t borrowed() {
    std::string *Item = Items.Acquire();
    const char *Text = Names[0].c_str();
    Items.Release(Item);
    return Text[0] + Item->size();
  }

private:
  Pool Items;
  std::vector<std::string> Names;
};

// A guard given `ThreadSafe ? &Mu : nullptr` (zeromq's
// scoped_optional_lock_t) holds Mu whenever the object is shared: a pointer
// into the data it guards, returned past it, escapes then.
class OptionalMutexLock {
public:
  explicit OptionalMutexLock(port::Mutex *Mu) : Mu(Mu) {
    if (this->Mu)
      this->Mu->Lock();
  }
  ~OptionalMutexLock() {
    if (Mu)
      Mu->Unlock();
  }

private:
  port::Mutex *const Mu;
};

class OptionalSessions {
public:
  std::string *user(int Id) {
    OptionalMutexLock Lock(ThreadSafe ? &Mu : nullptr);
    return &Users[Id];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Users' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }
  std::string name(int Id) {
    OptionalMutexLock Lock(ThreadSafe ? &Mu : nullptr);
    return Users[Id];
  }

private:
  bool ThreadSafe = false;
  port::Mutex Mu;
  std::map<int, std::string> Users;
};
