// RUN: %check_concguard -std=c++20 %s concguard-escaping-guarded-reference %t

// Patterns that keep guarded data inside the lock's scope, or that hand out
// something that is not guarded data: nothing is reported for them (one
// buggy twin at the end shows that the check ran).

#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct Impl;

class Clean {
public:
  // Returned by value: a copy made under the lock.
  std::string nameCopy() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Name;
  }

  // std::optional copy of the element.
  std::optional<std::string> find(int K) const {
    std::lock_guard<std::mutex> Lock(Mu);
    auto It = Names.find(K);
    if (It == Names.end())
      return std::nullopt;
    return It->second;
  }

  // A visitor invoked while the lock is held.
  void forEach(const std::function<void(const std::string &)> &Visit) const {
    std::lock_guard<std::mutex> Lock(Mu);
    for (const auto &[K, V] : Names)
      Visit(V);
  }
  template <typename F> void visit(int K, F &&Visit) {
    std::lock_guard<std::mutex> Lock(Mu);
    auto It = Names.find(K);
    if (It != Names.end())
      Visit(It->second);
  }

  // No lock at all in the function: not this check's business.
  const std::string &unlockedName() const { return Name; }

  // A struct that carries the lock together with the reference.
  struct LockedNames {
    std::unique_lock<std::mutex> Lock;
    const std::map<int, std::string> &Names;
  };
  LockedNames lockedNames() const {
    std::unique_lock<std::mutex> Lock(Mu);
    return LockedNames{std::move(Lock), Names};
  }
  std::pair<std::unique_lock<std::mutex>, const std::string *> lockedName() {
    std::unique_lock<std::mutex> Lock(Mu);
    return {std::move(Lock), &Name};
  }

  // Data that needs no lock: const members, atomics, the mutex itself.
  const std::string &id() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Id;
  }
  std::atomic<int> *counter() {
    std::lock_guard<std::mutex> Lock(Mu);
    return &Counter;
  }

  // The lock is still held when the function returns: the caller unlocks.
  std::string *lockAndGet() {
    Mu.lock();
    return &Name;
  }

  // Pointer values copied out of guarded data point to other objects.
  Impl *impl() {
    std::lock_guard<std::mutex> Lock(Mu);
    return ImplPtr;
  }
  Impl *implAt(size_t I) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Impls[I];
  }
  Impl *owned() {
    std::lock_guard<std::mutex> Lock(Mu);
    return Owned.get();
  }

  // A parameter's data is not guarded by our lock.
  const int *firstOf(const std::vector<int> &V) {
    std::lock_guard<std::mutex> Lock(Mu);
    return V.data();
  }

  // Handles used only while the lock is held.
  size_t totalLength() {
    std::unique_lock<std::mutex> Lock(Mu);
    const std::string &N = Name;
    std::string_view V = Name;
    size_t Total = N.size() + V.size();
    Lock.unlock();
    return Total;
  }

  // Reassigned after the unlock before it is used again.
  size_t reassigned(const std::string &Other) {
    std::unique_lock<std::mutex> Lock(Mu);
    const std::string *P = &Name;
    size_t Size = P->size();
    Lock.unlock();
    P = &Other;
    return Size + P->size();
  }

  // Only tested against null after the unlock.
  bool has(int K) {
    std::unique_lock<std::mutex> Lock(Mu);
    const std::string *P = nullptr;
    if (auto It = Names.find(K); It != Names.end())
      P = &It->second;
    Lock.unlock();
    return P != nullptr;
  }

  // A lambda created under the lock runs without it, later, on its own.
  std::function<const std::string *()> getter() {
    std::lock_guard<std::mutex> Lock(Mu);
    return [this] { return &Name; };
  }

  // Stored in a local that dies with the lock.
  size_t localCache() {
    std::lock_guard<std::mutex> Lock(Mu);
    const std::string *Cache = &Name;
    return Cache->size();
  }

  // Locked on one branch only: the return is not definitely under the lock.
  const std::string *maybeLocked(bool L) {
    std::unique_lock<std::mutex> Lock(Mu, std::defer_lock);
    if (L)
      Lock.lock();
    return &Name;
  }

  // A value written to a by-value pointer parameter is a local copy.
  void byValue(const std::string *P) {
    std::lock_guard<std::mutex> Lock(Mu);
    P = &Name;
    (void)P;
  }

private:
  mutable std::mutex Mu;
  std::string Name;
  const std::string Id = "clean";
  std::map<int, std::string> Names;
  std::atomic<int> Counter{0};
  Impl *ImplPtr = nullptr;
  std::vector<Impl *> Impls;
  std::unique_ptr<Impl> Owned;
};

// A thread_local cache is not shared.
std::mutex GlobalMu;
thread_local std::vector<int> PerThread;
int *perThread() {
  std::lock_guard<std::mutex> Lock(GlobalMu);
  return PerThread.data();
}

// A temporary guard locks nothing lasting (another bug, not this one).
std::vector<int> Values;
int *temporaryGuard() {
  std::lock_guard<std::mutex>{GlobalMu};
  return Values.data();
}

// A singleton whose lock guards its initialisation only.
struct Settings {
  int Level = 0;
};
Settings &settings() {
  static std::mutex InitMu;
  std::lock_guard<std::mutex> Lock(InitMu);
  static Settings Instance;
  return Instance;
}

// The buggy twin of the patterns above, so that this file proves the check
// ran: a pointer into guarded data returned past the lock.
std::vector<int> *valuesPtr() {
  std::lock_guard<std::mutex> Lock(GlobalMu);
  return &Values;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: returned pointer into 'Values' outlives the lock on 'GlobalMu' that guards it [concguard-escaping-guarded-reference]
}

void callers(Clean &C) {
  C.forEach([](const std::string &S) { (void)S.size(); });
  C.visit(1, [](std::string &S) { S += "!"; });
  auto Locked = C.lockedNames();
  (void)Locked.Names.size();
}
