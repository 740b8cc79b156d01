// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// Monitors: a class that derives from its mutex (std, or a project's own by
// its shape) or from a monitor base, and locks `*this`, guards its own
// members with that lock. No MutexTypes or LockGuardTypes configured.

#include <mutex>
#include <string>
#include <vector>

// An IceUtil-style monitor base: lock() and unlock() by shape, and a scoped
// lock template over it.
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

struct Load {
  std::string Name;
  int Weight = 0;
};

class Balancer : public Monitor {
public:
  // The example: a const& to a member, returned after the monitor
  // lock is released.
  const Load &get() const {
    Lock sync(*this);
    return _load;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into '_load' outlives the lock on '*this' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-4]]:3: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on '*this' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'sync' releases '*this' here, when the function returns
  }
  // CHECK-FIXES: {{^}}  Load get() const {{{$}}

  // Clean twin: a copy leaves the lock.
  Load getCopy() const {
    Lock sync(*this);
    return _load;
  }

  // lock() and unlock() called on this, implicitly and explicitly.
  const std::string &name() const {
    lock();
    const std::string &Name = _load.Name;
    unlock();
    return Name;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'Name' refers into '_load' and is used after the lock on '*this' that guards it is released
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on '*this' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: '*this' is released here
  }

  std::size_t nameLength() const {
    this->lock();
    const std::string &Name = _load.Name;
    std::size_t N = Name.size();
    this->unlock();
    return N;
  }

private:
  Load _load;
};

// A class that derives from std::mutex and locks itself with a std guard.
class Roster : public std::mutex {
public:
  const std::string &first() {
    std::lock_guard<std::mutex> Guard(*this);
    return Names.front();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Names' outlives the lock on '*this' that guards it
    // CHECK-NOTES: :[[@LINE-4]]:3: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on '*this' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Guard' releases '*this' here, when the function returns
  }
  // CHECK-FIXES: {{^}}  std::string first() {{{$}}

  // Clean twin.
  std::string firstCopy() {
    std::lock_guard<std::mutex> Guard(*this);
    return Names.front();
  }

  // Clean twin: the lock is not released by this function (the caller
  // unlocks).
  const std::string *lockedFirst() {
    lock();
    return &Names.front();
  }

private:
  std::vector<std::string> Names;
};

// Not a monitor: a class with no lock of its own that merely mentions
// `*this` in a guard-like object which does not lock.
class Tag {
public:
  explicit Tag(const class Plain &) {}
};
class Plain {
public:
  const std::string &label() {
    Tag T(*this);
    return Label;
  }

private:
  std::string Label;
};
