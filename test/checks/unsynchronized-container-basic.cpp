// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// The seed program and the basic shapes of sharing: locals captured by
// reference, globals, statics, std::async, pthreads, std::ref and pointers.

#include <cstdint>
#include <future>
#include <map>
#include <pthread.h>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

void use(std::size_t);

// The Go `concurrent map writes` crash, in C++.
void seed() {
  std::unordered_map<std::int64_t, std::vector<std::string>> Sessions;
  std::thread Writer([&] {
    for (int I = 0; I < 1000; ++I)
      Sessions[I % 10].push_back("event");
      // CHECK-NOTES: :[[@LINE-1]]:7: warning: 'Sessions' is modified here on the thread started at line [[@LINE-3]] while it is read on the thread started at line [[@LINE+6]], with no mutex held at both accesses; guard every access with the same mutex or make it a concguard::sharded_map or concguard::snapshot_map (concguard-rewrite can do that) [concguard-unsynchronized-container]
      // CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
      // CHECK-NOTES: :[[@LINE+7]]:17: note: read here
      // CHECK-NOTES: :[[@LINE-6]]:15: note: thread started here
      // CHECK-NOTES: :[[@LINE-8]]:62: note: 'Sessions' declared here
  });
  std::thread Reader([&] {
    std::size_t Events = 0;
    for (int I = 0; I < 1000; ++I)
      Events += Sessions.count(I % 10);
    use(Events);
  });
  Writer.join();
  Reader.join();
}

std::vector<int> Global;

void globalWrittenByThreadReadByMain() {
  std::thread T([] { Global.push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: 'Global' is modified here on the thread started at line [[@LINE-1]] while it is read in 'globalWrittenByThreadReadByMain' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; guard every access with the same mutex [concguard-unsynchronized-container]
  // CHECK-NOTES-COUNT-7: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+3]]:7: note: read here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-8]]:18: note: 'Global' declared here
  use(Global.size());
  T.join();
}

// Ordered by the spawn and the join: no race.
void globalBeforeSpawnAndAfterJoin() {
  Global.push_back(0);
  std::thread T([] { use(Global.size()); });
  T.join();
  Global.clear();
}

struct Registry {
  static std::map<int, std::string> Names;
};
std::map<int, std::string> Registry::Names;

void staticMember() {
  std::thread T([] { Registry::Names[1] = "one"; });
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: 'Names' is modified here on the thread started at line [[@LINE-1]] while it is read in 'staticMember' after it starts the thread at line [[@LINE-1]]
  // CHECK-NOTES-COUNT-4: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+3]]:7: note: read here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-10]]:37: note: 'Names' declared here
  use(Registry::Names.size());
  T.join();
}

std::vector<int> &cache() {
  static std::vector<int> Cache;
  return Cache;
}

void functionLocalStatic() {
  static std::vector<int> Counts;
  std::thread T([] { Counts.push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: 'Counts' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'functionLocalStatic'
  // CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+3]]:3: note: modified here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-6]]:27: note: 'Counts' declared here
  Counts.push_back(2);
  T.join();
}

int asyncTask() {
  std::map<int, int> Totals;
  auto Future = std::async(std::launch::async, [&Totals] { Totals[1] += 1; });
  // CHECK-NOTES: :[[@LINE-1]]:60: warning: 'Totals' is modified here on the thread started at line [[@LINE-1]] while it is read in 'asyncTask' after it starts the thread at line [[@LINE-1]]
  // CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+3]]:16: note: read here
  // CHECK-NOTES: :[[@LINE-4]]:17: note: thread started here
  // CHECK-NOTES: :[[@LINE-6]]:22: note: 'Totals' declared here
  int Before = Totals.empty() ? 0 : 1;
  Future.get();
  // After get(): ordered.
  return Before + Totals[1];
}

void *appendOne(void *Arg) {
  static_cast<std::vector<int> *>(Arg)->push_back(1);
  return nullptr;
}

void *appendTwo(void *Arg) {
  auto *Values = static_cast<std::vector<int> *>(Arg);
  Values->push_back(2);
  return nullptr;
}

void pthreads() {
  std::vector<int> Values;
  pthread_t T;
  pthread_create(&T, nullptr, appendTwo, &Values);
  Values.push_back(3);
  // CHECK-NOTES: :[[@LINE-9]]:3: warning: 'Values' is modified here on the thread started at line [[@LINE-2]] while it is modified in 'pthreads' after it starts the thread at line [[@LINE-2]]
  // CHECK-NOTES: :[[@LINE-2]]:3: note: modified here
  // CHECK-NOTES: :[[@LINE-4]]:3: note: thread started here
  // CHECK-NOTES: :[[@LINE-7]]:20: note: 'Values' declared here
  // CHECK-NOTES: :[[@LINE-6]]:43: note: concguard-rewrite cannot rewrite 'Values': the container's address is taken
  pthread_join(T, nullptr);
  Values.push_back(4);
}

void fill(std::vector<std::string> &Out) { Out.push_back("x"); }

// Given with std::ref to the thread's function: fill's parameter becomes a
// reference to the same concguard::synchronized (the fix-it).
void stdRefArgument() {
  std::vector<std::string> Lines;
  std::thread T(fill, std::ref(Lines));
  use(Lines.size());
  // CHECK-NOTES: :[[@LINE-8]]:44: warning: 'Lines' is modified here on the thread started at line [[@LINE-2]] while it is read in 'stdRefArgument' after it starts the thread at line [[@LINE-2]]
  // CHECK-NOTES-COUNT-4: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE-3]]:7: note: read here
  // CHECK-NOTES: :[[@LINE-5]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-7]]:28: note: 'Lines' declared here
  T.join();
}

// std::thread copies its arguments: without std::ref the thread fills a copy.
void copiedArgument() {
  std::vector<std::string> Lines;
  std::thread T([](std::vector<std::string> Copy) { Copy.push_back("x"); },
                Lines);
  use(Lines.size());
  T.join();
}

void pointerCapturedByValue() {
  std::vector<int> Data;
  std::vector<int> *P = &Data;
  std::thread T([P] { P->push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: 'Data' is modified here on the thread started at line [[@LINE-1]] while it is read in 'pointerCapturedByValue' after it starts the thread at line [[@LINE-1]]
  // CHECK-NOTES: :[[@LINE+4]]:7: note: read here
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-6]]:20: note: 'Data' declared here
  // CHECK-NOTES: :[[@LINE-6]]:26: note: concguard-rewrite cannot rewrite 'Data': the container's address is taken
  use(Data.size());
  T.join();
}

void capturedByValue() {
  std::vector<int> Data{1, 2, 3};
  std::thread T([Data]() mutable { Data.push_back(4); });
  Data.push_back(5);
  T.join();
}

void capturedByValueDefault() {
  std::vector<int> Data{1, 2, 3};
  std::thread T([=] { use(Data.size()); });
  Data.push_back(5);
  T.join();
}

thread_local std::vector<int> PerThread;

void threadLocal() {
  std::thread T([] { PerThread.push_back(1); });
  PerThread.push_back(2);
  T.join();
}

// Both sides only read: no race.
void readOnlySharing() {
  std::vector<int> Data{1, 2, 3};
  std::thread T([&] { use(Data.size()); });
  use(Data.front());
  T.join();
}

// Filled before the spawn, modified only after the join.
void fillThenShareThenModify() {
  std::map<int, int> Table;
  Table[1] = 2;
  std::thread T([&] { use(Table.count(1)); });
  T.join();
  Table[2] = 3;
}

// A jthread joins at the end of its scope.
void jthreadScope() {
  std::vector<int> Data;
  {
    std::jthread T([&] { Data.push_back(1); });
  }
  Data.push_back(2);
}

// A racy map parameter of a function also called with a map that is not
// flagged: the parameter cannot change type, and the note says so in the
// words concguard-rewrite uses for it.
void fillCounts(std::map<int, int> &M) {
  std::thread T([&M] { M[1] = 1; });
  // CHECK-NOTES: :[[@LINE-1]]:24: warning: 'M' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'fillCounts' after it starts the thread at line [[@LINE-1]]
  // CHECK-NOTES: :[[@LINE+4]]:3: note: modified here
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-5]]:37: note: 'M' declared here
  // CHECK-NOTES: :[[@LINE-6]]:37: note: concguard-rewrite cannot rewrite 'M': it is a parameter of 'fillCounts', which is also called with a map that is not rewritten
  M[2] = 2;
  T.join();
}

std::map<int, int> Counted;
int countOne() {
  fillCounts(Counted);
  return Counted.count(1);
}

// The fix-its: concguard-rewrite's rewrite of the maps used in this file
// alone (see unsynchronized-container-fixits.cpp).
// CHECK-FIXES:      #include <concguard/sharded_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES-NEXT: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <cstdint>
// CHECK-FIXES: concguard::sharded_map<std::int64_t, std::vector<std::string>> Sessions;
// CHECK-FIXES: Sessions.upsert(I % 10, [&](auto &value) { value.push_back("event"); });
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Global;
// CHECK-FIXES: std::thread T([] { Global.with_lock([&](auto &Global) { Global.push_back(1); }); });
// CHECK-FIXES: static concguard::snapshot_map<int, std::string, std::map<int, std::string>> Names;
// CHECK-FIXES: concguard::snapshot_map<int, std::string, std::map<int, std::string>> Registry::Names;
// CHECK-FIXES: std::thread T([] { Registry::Names.insert_or_assign(1, "one"); });
// CHECK-FIXES: concguard::snapshot_map<int, int, std::map<int, int>> Totals;
// CHECK-FIXES: auto Future = std::async(std::launch::async, [&Totals] { Totals.upsert(1, [&](auto &value) { value += 1; }); });
// CHECK-FIXES: return Before + Totals.get_or_insert_default(1);
// CHECK-FIXES: void fill(concguard::synchronized<std::vector<std::string>> &Out) { Out.with_lock([&](auto &Out) { Out.push_back("x"); }); }
// CHECK-FIXES: concguard::synchronized<std::vector<std::string>> Lines;
// CHECK-FIXES-NEXT: std::thread T(fill, std::ref(Lines));
// CHECK-FIXES-NEXT: use(Lines.with_shared_lock([&](const auto &Lines) { return Lines.size(); }));
