// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Member containers of a class whose methods run on a thread started on
// `this`, objects shared by reference, and thread pools.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

void use(std::size_t);

#if defined(__clang__)
#define GUARDED_BY(x) __attribute__((guarded_by(x)))
#else
#define GUARDED_BY(x)
#endif

class SessionStore {
public:
  void start() { Ingest = std::thread(&SessionStore::ingest, this); }
  void stop() {
    Stopping = true;
    Ingest.join();
  }
  std::size_t count(std::int64_t User) const {
    auto It = Sessions.find(User);
    return It == Sessions.end() ? 0 : It->second.size();
  }

private:
  void append(std::int64_t User) {
    Sessions[User].push_back("event");
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Sessions' is modified here on the thread started at line 25 while it is read in 'SessionStore::count', which may run concurrently with the thread started at line 25, with no mutex held at both accesses; guard every access with the same mutex or make it a concguard::sharded_map or concguard::snapshot_map (concguard-rewrite can do that) [concguard-unsynchronized-container]
  }
  void ingest() {
    for (std::int64_t I = 0; !Stopping; ++I)
      append(I % 16);
  }
  std::unordered_map<std::int64_t, std::vector<std::string>> Sessions;
  std::atomic<bool> Stopping{false};
  std::thread Ingest;
};

class LockedStore {
public:
  void start() {
    Worker = std::thread([this] {
      std::lock_guard<std::mutex> Lock(Mutex);
      Data[1] = 2;
    });
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> Lock(Mutex);
    return Data.size();
  }
  ~LockedStore() { Worker.join(); }

private:
  mutable std::mutex Mutex;
  std::map<int, int> Data;
  std::thread Worker;
};

// Annotated members are checked by the compiler's thread-safety analysis.
class Annotated {
public:
  void start() {
    Worker = std::thread([this] { Data.push_back(1); });
  }
  std::size_t size() const { return Data.size(); }
  ~Annotated() { Worker.join(); }

private:
  std::mutex Mutex;
  std::vector<int> Data GUARDED_BY(Mutex);
  std::thread Worker;
};

// A member of an object shared by reference with the thread.
struct Inventory {
  std::map<std::string, int> Stock;
  void add(const std::string &Item) { Stock[Item] += 1; }
  std::size_t kinds() const { return Stock.size(); }
};

void sharedObject() {
  Inventory Shop;
  std::thread T([&Shop] { Shop.add("apple"); });
  use(Shop.kinds());
  T.join();
}
// CHECK-MESSAGES: :[[@LINE-10]]:39: warning: 'Stock' is modified here on the thread started at line [[@LINE-4]] while it is read in 'sharedObject' after it starts the thread at line [[@LINE-4]]

// Thread pools.
void poolAppendingToSharedVector() {
  std::vector<int> Results;
  std::vector<std::thread> Pool;
  for (int I = 0; I < 4; ++I)
    Pool.emplace_back([&Results, I] { Results.push_back(I); });
    // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: 'Results' is modified here on the thread started at line [[@LINE-1]] while another thread started at the same line may access it too, with no mutex held at both accesses
  for (std::thread &T : Pool)
    T.join();
  use(Results.size());
}

void poolWithPresizedSlots() {
  std::vector<int> Results(4);
  std::vector<std::thread> Pool;
  for (int I = 0; I < 4; ++I)
    Pool.emplace_back([&Results, I] { Results[I] = I * I; });
  for (std::thread &T : Pool)
    T.join();
  use(Results.size());
}

void poolWithLock() {
  std::vector<int> Results;
  std::mutex ResultsMutex;
  std::vector<std::thread> Pool;
  for (int I = 0; I < 4; ++I)
    Pool.emplace_back([&, I] {
      std::lock_guard<std::mutex> Lock(ResultsMutex);
      Results.push_back(I);
    });
  for (std::thread &T : Pool)
    T.join();
  use(Results.size());
}

// Started and joined in each iteration: the threads never overlap.
void sequentialThreads() {
  std::vector<int> Results;
  for (int I = 0; I < 4; ++I) {
    std::thread T([&Results, I] { Results.push_back(I); });
    T.join();
  }
  use(Results.size());
}

void joinedWhenJoinable() {
  std::vector<int> Results;
  std::thread T([&Results] { Results.push_back(1); });
  if (T.joinable())
    T.join();
  use(Results.size());
}

// A detached thread outlives its spawning function: every other function
// may run beside it.
std::map<int, std::string> Config;

void startRefresher() {
  std::thread([] { Config[1] = "fresh"; }).detach();
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: 'Config' is modified here on the thread started at line [[@LINE-1]] while it is read in 'lookup', which may run concurrently with the thread started at line [[@LINE-1]] and never joined there
}

std::size_t lookup(int Key) { return Config.count(Key); }

// The fix-its: concguard-rewrite's rewrite of the maps used in this file
// alone (see unsynchronized-container-fixits.cpp).
// CHECK-FIXES:      #include <atomic>
// CHECK-FIXES-NEXT: #include <concguard/sharded_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES-NEXT: #include <cstdint>
// CHECK-FIXES:      auto It = Sessions.get(User);
// CHECK-FIXES-NEXT: return !It.has_value() ? 0 : (*It).size();
// CHECK-FIXES: Sessions.upsert(User, [&](auto &value) { value.push_back("event"); });
// CHECK-FIXES: concguard::sharded_map<std::int64_t, std::vector<std::string>> Sessions;
// CHECK-FIXES: concguard::snapshot_map<std::string, int, std::map<std::string, int>> Stock;
// CHECK-FIXES: void add(const std::string &Item) { Stock.upsert(Item, [&](auto &value) { value += 1; }); }
// CHECK-FIXES: concguard::snapshot_map<int, std::string, std::map<int, std::string>> Config;
// CHECK-FIXES: std::thread([] { Config.insert_or_assign(1, "fresh"); }).detach();
