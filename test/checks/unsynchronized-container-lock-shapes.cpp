// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// A project's own mutex and scoped guard are recognised by their shape, with
// no MutexTypes or LockGuardTypes configured: a class with lock and unlock
// methods (any spelling) is a mutex; a class whose constructor takes a
// reference or pointer to one and whose destructor unlocks it is a guard.

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace port {
class Mutex {
public:
  void Lock();
  void Unlock();
  void AssertHeld() {}
};
} // namespace port

class MutexLock {
public:
  explicit MutexLock(port::Mutex *Mu) : Mu(Mu) { Mu->Lock(); }
  ~MutexLock() { Mu->Unlock(); }
  MutexLock(const MutexLock &) = delete;

private:
  port::Mutex *Mu;
};

class Cache {
public:
  void start() { Refresher = std::thread(&Cache::refresh, this); }
  void stop() { Refresher.join(); }
  void put(int Key) {
    MutexLock Lock(&Mu);
    Entries[Key].push_back("v");
  }
  std::size_t size() {
    Mu.Lock();
    std::size_t N = Entries.size();
    Mu.Unlock();
    return N;
  }
  void clearUnlocked() { Entries.clear(); }

private:
  void refresh() {
    MutexLock Lock(&Mu);
    Entries.erase(0);
  }
  port::Mutex Mu;
  std::map<int, std::vector<std::string>> Entries;
  std::thread Refresher;
};
// CHECK-MESSAGES: :[[@LINE-6]]:5: warning: 'Entries' is modified here on the thread started at line 35 while it is modified in 'Cache::clearUnlocked', which may run concurrently with the thread started at line 35, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

// Not locks: a `lock()` that returns a pointer and has no unlock (a weak
// handle), and a file lock whose lock takes a path.
struct WeakHandle {
  std::shared_ptr<int> lock() const { return nullptr; }
};
struct FileLock {
  bool lock(const char *Path);
  void unlock();
};
struct WeakGuard {
  explicit WeakGuard(WeakHandle &H) : Pinned(H.lock()) {}
  ~WeakGuard() {}
  std::shared_ptr<int> Pinned;
};

class Registry {
public:
  void start() { Loader = std::thread(&Registry::load, this); }
  void stop() { Loader.join(); }
  void add(int Key) {
    WeakGuard Pin(Handle);
    auto Held = Handle.lock();
    Files.lock("/tmp/registry");
    Names[Key] = "n";
    Files.unlock();
  }

private:
  void load() { Names.erase(1); }
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'Names' is modified here on the thread started at line 77 while it is modified in 'Registry::add', which may run concurrently with the thread started at line 77, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  WeakHandle Handle;
  FileLock Files;
  std::map<int, std::string> Names;
  std::thread Loader;
};

// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: Entries.upsert(Key, [&](auto &value) { value.push_back("v"); });
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<std::string>, std::map<int, std::vector<std::string>>> Entries;
// CHECK-FIXES: Names.insert_or_assign(Key, "n");
// CHECK-FIXES: concguard::snapshot_map<int, std::string, std::map<int, std::string>> Names;
