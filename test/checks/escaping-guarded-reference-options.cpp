// With the options naming the project's own mutex, guards and container:
// RUN: %check_concguard -std=c++20 -check-suffix=OPT %s concguard-escaping-guarded-reference %t -- \
// RUN:   -config="{CheckOptions: {concguard-escaping-guarded-reference.MutexTypes: 'base::Mutex', concguard-escaping-guarded-reference.LockGuardTypes: 'base::MutexLock;base::ReaderMutexLock:shared', concguard-escaping-guarded-reference.ContainerTypes: 'base::FlatMap'}}"
// Without them, nothing is reported: the guards' bodies are not visible, so
// they are not recognised by their shape, and the project container is
// unknown (base::Mutex itself has the shape of a mutex: Lock/Unlock).
// RUN: %check_concguard -std=c++20 %s concguard-escaping-guarded-reference %t

#include <string>
#include <vector>

namespace base {
class Mutex {
public:
  void Lock();
  void Unlock();
  void ReaderLock();
  void ReaderUnlock();
};
class MutexLock {
public:
  explicit MutexLock(Mutex *M);
  ~MutexLock();
};
class ReaderMutexLock {
public:
  explicit ReaderMutexLock(Mutex *M);
  ~ReaderMutexLock();
};
template <typename K, typename V> class FlatMap {
public:
  V &at(const K &Key);
  V *data();
};
} // namespace base

class Sessions {
public:
  // A project guard class.
  std::string *user(int Id) {
    base::MutexLock Lock(&Mu);
    return &Users[Id];
    // CHECK-NOTES-OPT: :[[@LINE-1]]:12: warning: returned pointer into 'Users' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES-OPT: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES-OPT: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // A shared project guard, and a project container's at().
  std::string &token(int Id) {
    base::ReaderMutexLock Lock(&Mu);
    return Tokens.at(Id);
    // CHECK-NOTES-OPT: :[[@LINE-1]]:12: warning: returned reference into 'Tokens' outlives the lock on 'Mu'
    // CHECK-NOTES-OPT: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES-OPT: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // The project mutex's own Lock()/Unlock().
  size_t manual() {
    Mu.Lock();
    std::string *First = Tokens.data();
    Mu.Unlock();
    return First->size();
    // CHECK-NOTES-OPT: :[[@LINE-1]]:12: warning: 'First' refers into 'Tokens' and is used after the lock on 'Mu' that guards it is released
    // CHECK-NOTES-OPT: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES-OPT: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

private:
  base::Mutex Mu;
  std::vector<std::string> Users;
  base::FlatMap<int, std::string> Tokens;
};
