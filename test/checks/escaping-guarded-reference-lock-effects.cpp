// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// Functions that acquire and keep a lock, or release the lock their caller
// holds, change the caller's locks at the call: from their bodies in the
// unit, or from their thread-safety attributes.

#include <mutex>
#include <string>
#include <vector>

class Queue {
public:
  void lockQueue() { Mu.lock(); }
  void unlockQueue() { Mu.unlock(); }

  std::size_t frontLength() {
    lockQueue();
    const std::string &Front = Items.front();
    unlockQueue();
    return Front.size();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'Front' refers into 'Items' and is used after the lock on 'Mu' that guards it is released [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // Clean twin: used before the release.
  std::size_t frontLengthLocked() {
    lockQueue();
    const std::string &Front = Items.front();
    std::size_t N = Front.size();
    unlockQueue();
    return N;
  }

  // Clean twin: a helper that locks and unlocks on every path has no
  // effect, so nothing is held here at all.
  void touch() {
    Mu.lock();
    Items.size();
    Mu.unlock();
  }
  std::size_t frontLengthAfterTouch() {
    touch();
    const std::string &Front = Items.front();
    touch();
    return Front.size();
  }

private:
  std::mutex Mu;
  std::vector<std::string> Items;
};

// Thread-safety attributes, no bodies in this unit.
class __attribute__((capability("mutex"))) Mutex {
public:
  void Lock() __attribute__((acquire_capability()));
  void Unlock() __attribute__((release_capability()));
};

class Table {
public:
  void acquire() __attribute__((acquire_capability(Mu)));
  void release() __attribute__((release_capability(Mu)));

  const std::string *first() {
    acquire();
    const std::string *First = &Rows[0];
    release();
    return First;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'First' refers into 'Rows' and is used after the lock on 'Mu' that guards it is released
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // Clean twin: the caller releases (the lock is not released here).
  const std::string *firstLocked() {
    acquire();
    return &Rows[0];
  }

private:
  Mutex Mu;
  std::vector<std::string> Rows;
};
