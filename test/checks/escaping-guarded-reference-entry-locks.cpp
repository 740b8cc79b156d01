// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// A function whose callers hold the lock (a REQUIRES attribute, or an
// AssertHeld() first thing) starts with it held: a reference into guarded
// data it takes before releasing the lock for a while escapes that lock as
// it would under a lock of the function's own.

#include <map>
#include <string>

#define CAPABILITY(x) __attribute__((capability(x)))
#define REQUIRES(...) __attribute__((requires_capability(__VA_ARGS__)))
#define REQUIRES_SHARED(...)                                                   \
  __attribute__((requires_shared_capability(__VA_ARGS__)))
#define EXCLUSIVE_LOCKS_REQUIRED(...)                                          \
  __attribute__((exclusive_locks_required(__VA_ARGS__)))
#define ACQUIRE(...) __attribute__((acquire_capability(__VA_ARGS__)))
#define RELEASE(...) __attribute__((release_capability(__VA_ARGS__)))
#define ASSERT_CAPABILITY(x) __attribute__((assert_capability(x)))

class CAPABILITY("mutex") Mutex {
public:
  void Lock() ACQUIRE();
  void Unlock() RELEASE();
  void AssertHeld() ASSERT_CAPABILITY(this);
  // For negative capabilities (REQUIRES(!Mu)).
  const Mutex &operator!() const { return *this; }
};

void use(const std::string &);
void wait();

class Table {
public:
  void refresh(int K) REQUIRES(Mu) {
    const std::string &Name = Names[K];
    Mu.Unlock();
    use(Name);
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'Name' refers into 'Names' and is used after the lock on 'Mu' that guards it is released [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:32: note: 'Mu' is held on entry to 'Table::refresh': its callers must hold it
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
    Mu.Lock();
  }
  void refreshDeclaredOutOfLine(int K);
  void refreshAsserted(int K) {
    Mu.AssertHeld();
    const std::string &Name = Names.at(K);
    Mu.Unlock();
    wait();
    Mu.Lock();
    use(Name);
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'Name' refers into 'Names' and is used after the lock on 'Mu' that guards it is released [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-7]]:5: note: 'Mu' is held on entry to 'Table::refreshAsserted': its callers must hold it
    // CHECK-NOTES: :[[@LINE-6]]:5: note: 'Mu' is released here
  }
  // A copy taken before the release.
  void refreshCopy(int K) REQUIRES(Mu) {
    std::string Name = Names[K];
    Mu.Unlock();
    use(Name);
    Mu.Lock();
  }
  // Returned while the callers' lock is still held: theirs to keep.
  const std::string &nameLocked(int K) REQUIRES(Mu) { return Names[K]; }
  // The callers must not hold it.
  void notHeld(int K) REQUIRES(!Mu) {
    const std::string &Name = Names[K];
    use(Name);
  }
  // Used before the release.
  void useThenWait(int K) REQUIRES_SHARED(Mu) {
    const std::string &Name = Names[K];
    use(Name);
    Mu.Unlock();
    wait();
    Mu.Lock();
  }

private:
  Mutex Mu;
  std::map<int, std::string> Names;
};

void Table::refreshDeclaredOutOfLine(int K) EXCLUSIVE_LOCKS_REQUIRED(Mu) {
  const std::string &Name = Names[K];
  Mu.Unlock();
  use(Name);
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: 'Name' refers into 'Names' and is used after the lock on 'Mu' that guards it is released [concguard-escaping-guarded-reference]
  // CHECK-NOTES: :[[@LINE-5]]:70: note: 'Mu' is held on entry to 'Table::refreshDeclaredOutOfLine': its callers must hold it
  // CHECK-NOTES: :[[@LINE-4]]:3: note: 'Mu' is released here
  Mu.Lock();
}
