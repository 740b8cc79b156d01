// RUN: %check_concguard -std=c++17 -check-suffixes=ALL,BEFORE23 %s concguard-escaping-guarded-reference %t
// RUN: %check_concguard -std=c++23 -check-suffixes=ALL %s concguard-escaping-guarded-reference %t

// Lock holders: objects that hold a lock for as long as they live and hand
// out the data it guards (PowerDNS's LockGuarded<T>::lock(), a Locked<T>
// pointer). Recognised by their shape, without any option. A handle into the
// data that outlives a temporary holder outlives the lock.

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

template <typename T> class LockGuardedHolder {
public:
  LockGuardedHolder(T &Value, std::mutex &Mutex) : Lock(Mutex), Value(Value) {}
  T &operator*() const noexcept { return Value; }
  T *operator->() const noexcept { return &Value; }

private:
  std::lock_guard<std::mutex> Lock;
  T &Value;
};

template <typename T> class LockGuarded {
public:
  LockGuardedHolder<T> lock() { return LockGuardedHolder<T>(Value, Mutex); }

private:
  std::mutex Mutex;
  T Value;
};

// A holder built on a guard of the project's own (recognised by shape too).
class SpinLock {
public:
  void lock();
  void unlock();
};
class SpinGuard {
public:
  explicit SpinGuard(SpinLock &L) : L(L) { L.lock(); }
  ~SpinGuard() { L.unlock(); }

private:
  SpinLock &L;
};
struct Config {
  std::vector<std::string> Names;
  std::map<int, std::string> ById;
};
class LockedConfig {
public:
  LockedConfig(Config &C, SpinLock &L) : Guard(L), C(C) {}
  Config *operator->() { return &C; }

private:
  SpinGuard Guard;
  Config &C;
};
class SharedConfig {
public:
  LockedConfig locked() { return LockedConfig(C, L); }

private:
  SpinLock L;
  Config C;
};

LockGuarded<std::unordered_map<std::string, long>> Hits;
SharedConfig Settings;

long sumHits() {
  long Total = 0;
  for (const auto &Entry : *Hits.lock())
    Total += Entry.second;
  // CHECK-NOTES-BEFORE23: :[[@LINE-2]]:28: warning: the loop iterates over data that the temporary 'LockGuardedHolder' hands out, and the temporary releases its lock before the loop body runs [concguard-escaping-guarded-reference]
  // CHECK-NOTES-BEFORE23: :[[@LINE-3]]:29: note: the temporary 'LockGuardedHolder' returned by 'lock' takes the lock here
  // CHECK-NOTES-BEFORE23: :[[@LINE-4]]:39: note: and is destroyed, releasing the lock, at the end of the range initialiser
  return Total;
}

std::size_t countNames() {
  std::size_t N = 0;
  for (const std::string &Name : Settings.locked()->Names)
    N += Name.size();
  // CHECK-NOTES-BEFORE23: :[[@LINE-2]]:34: warning: the loop iterates over data that the temporary 'LockedConfig' hands out, and the temporary releases its lock before the loop body runs
  // CHECK-NOTES-BEFORE23: :[[@LINE-3]]:34: note: the temporary 'LockedConfig' returned by 'locked' takes the lock here
  // CHECK-NOTES-BEFORE23: :[[@LINE-4]]:53: note: and is destroyed, releasing the lock, at the end of the range initialiser
  return N;
}

// A reference, an iterator and a pointer kept past the declaration: the
// holder is gone at the semicolon, in every language version.
std::size_t keptReference() {
  auto &Map = *Hits.lock();
  return Map.size();
  // CHECK-NOTES-ALL: :[[@LINE-1]]:10: warning: 'Map' refers into data that the temporary 'LockGuardedHolder' hands out, and is used after the temporary released its lock
  // CHECK-NOTES-ALL: :[[@LINE-3]]:16: note: the temporary 'LockGuardedHolder' returned by 'lock' takes the lock here
  // CHECK-NOTES-ALL: :[[@LINE-4]]:27: note: and is destroyed, releasing the lock, at the end of the declaration of 'Map'
}

bool keptIterator(const std::string &Key) {
  auto It = Hits.lock()->find(Key);
  return It != Hits.lock()->end() && It->second > 0;
  // CHECK-NOTES-ALL: :[[@LINE-1]]:10: warning: 'It' refers into data that the temporary 'LockGuardedHolder' hands out, and is used after the temporary released its lock
  // CHECK-NOTES-ALL: :[[@LINE-3]]:13: note: the temporary 'LockGuardedHolder' returned by 'lock' takes the lock here
  // CHECK-NOTES-ALL: :[[@LINE-4]]:35: note: and is destroyed, releasing the lock, at the end of the declaration of 'It'
}

const char *keptPointer(int Id) {
  const std::string *Name = &Settings.locked()->ById[Id];
  return Name->c_str();
  // CHECK-NOTES-ALL: :[[@LINE-1]]:10: warning: 'Name' refers into data that the temporary 'LockedConfig' hands out, and is used after the temporary released its lock
  // CHECK-NOTES-ALL: :[[@LINE-3]]:30: note: the temporary 'LockedConfig' returned by 'locked' takes the lock here
  // CHECK-NOTES-ALL: :[[@LINE-4]]:57: note: and is destroyed, releasing the lock, at the end of the declaration of 'Name'
}

// Clean twins.

// The holder is a named variable: it lives until the end of the scope.
long sumHitsHeld() {
  long Total = 0;
  auto Locked = Hits.lock();
  for (const auto &Entry : *Locked)
    Total += Entry.second;
  return Total;
}

// The holder bound to a reference lives as long as the reference.
std::size_t boundHolder() {
  auto &&Locked = Hits.lock();
  auto &Map = *Locked;
  return Map.size();
}

// A copy made while the temporary holds the lock.
std::vector<std::string> copiedNames() {
  std::vector<std::string> Names = Settings.locked()->Names;
  for (const std::string &Name : std::vector<std::string>(Settings.locked()->Names))
    Names.push_back(Name);
  return Names;
}

// Used within the full-expression that holds the lock.
std::size_t withinStatement(const std::string &Key) {
  return Hits.lock()->count(Key) + Settings.locked()->Names.size();
}

// A handle kept but never used again.
void unusedHandle() {
  auto &Map = *Hits.lock();
  (void)Map;
  static_assert(sizeof(Map) > 0, "mentioned, not read");
}

// A value, not a handle: the reference binds to a temporary copy.
std::size_t valueThroughReference() {
  const std::size_t &Size = Hits.lock()->size();
  return Size;
}

// Not a lock holder: a plain owner with operator* and no guard member.
template <typename T> class Box {
public:
  T &operator*() { return Value; }

private:
  T Value;
};
Box<std::vector<int>> makeBox();
Box<std::vector<int>> &sharedBox();
int boxSum() {
  int S = 0;
  for (int V : *sharedBox())
    S += V;
  return S;
}
