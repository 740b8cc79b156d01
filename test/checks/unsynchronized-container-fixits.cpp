// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include -I %S/Inputs

// The fix-it: concguard-rewrite's rewrite (--policy=auto) of a racy map whose
// declaration and uses, and those of the parameters it is passed to, are all
// in the main file, on the map's first warning, with the runtime's #include;
// a racy container that is not a map becomes a concguard::synchronized.
// The fixed file is compiled against the runtime by the runner.

// CHECK-FIXES:      #include <concguard/sharded_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES-NEXT: #include <map>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "unsynchronized-container-fixits.h"

// A global map written in a loop: a sharded_map.
std::unordered_map<int, int> Counts;
// CHECK-FIXES: concguard::sharded_map<int, int> Counts;

int countAll() {
  std::thread Writer([] {
    for (int I = 0; I < 100; ++I)
      Counts[I % 10] = I;
      // CHECK-NOTES: :[[@LINE-1]]:7: warning: 'Counts' is modified here on the thread started at line [[@LINE-3]] while it is modified in 'countAll' after it starts the thread at line [[@LINE-3]]
      // CHECK-NOTES-COUNT-8: note: FIX-IT applied suggested code changes
      // CHECK-FIXES: Counts.insert_or_assign(I % 10, I);
  });
  int Seen = Counts[3];
  // CHECK-NOTES: :[[@LINE-1]]:14: note: modified here
  // CHECK-NOTES: :[[@LINE-9]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-14]]:30: note: 'Counts' declared here
  // CHECK-FIXES: int Seen = Counts.get_or_insert_default(3);
  if (Counts.find(4) != Counts.end())
    ++Seen;
  // CHECK-FIXES: if (Counts.contains(4))
  for (const auto &[Key, Value] : Counts)
    Seen += Value;
  // CHECK-FIXES:      Counts.for_each([&](const auto &Key, const auto &Value)
  // CHECK-FIXES-NEXT:   { Seen += Value; });
  Writer.join();
  return Seen;
}

// A local std::map: a snapshot_map over a std::map keeps its key order.
int totals() {
  std::map<std::string, int> Totals;
  // CHECK-FIXES: concguard::snapshot_map<std::string, int, std::map<std::string, int>> Totals;
  std::thread Adder([&] { Totals["a"] += 1; });
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: 'Totals' is modified here on the thread started at line [[@LINE-1]] while it is read in 'totals'
  // CHECK-NOTES-COUNT-7: note: FIX-IT applied suggested code changes
  // CHECK-FIXES: std::thread Adder([&] { Totals.upsert("a", [&](auto &value) { value += 1; }); });
  int N = Totals.count("b");
  // CHECK-NOTES: :[[@LINE-1]]:11: note: read here
  // CHECK-NOTES: :[[@LINE-6]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-9]]:30: note: 'Totals' declared here
  // CHECK-FIXES: int N = Totals.count("b");
  if (Totals.find("c") != Totals.end())
    N += Totals.at("c");
  // CHECK-FIXES:      if (Totals.contains("c"))
  // CHECK-FIXES-NEXT:   N += Totals.at("c");
  for (const auto &[Name, Total] : Totals)
    N += Total + static_cast<int>(Name.size());
  // CHECK-FIXES:      Totals.for_each([&](const auto &Name, const auto &Total)
  // CHECK-FIXES-NEXT:   { N += Total + static_cast<int>(Name.size()); });
  Adder.join();
  return N;
}

// A map passed to a function of the main file: the parameter is rewritten
// with it, in the same fix-it (whose #include is the one Counts's fix-it
// already adds).
static void bump(std::unordered_map<int, int> &Map, int Key) { Map[Key] += 1; }
// CHECK-NOTES: :[[@LINE-1]]:64: warning: 'Hits' is modified here on the thread started at line [[@LINE+8]] while it is read in 'hits'
// CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
// CHECK-FIXES: static void bump(concguard::sharded_map<int, int> &Map, int Key) { Map.upsert(Key, [&](auto &value) { value += 1; }); }

std::unordered_map<int, int> Hits;
// CHECK-FIXES: concguard::sharded_map<int, int> Hits;

void hits() {
  std::thread Counter([] { bump(Hits, 1); });
  // CHECK-NOTES: :[[@LINE-1]]:28: note: reached through this call
  int One = Hits.count(1);
  // CHECK-NOTES: :[[@LINE-1]]:13: note: read here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-9]]:30: note: 'Hits' declared here
  (void)One;
  Counter.join();
}

// Declared and used in a header too: no fix-it (concguard-rewrite, given the
// files, rewrites the header with it), and no note.
std::unordered_map<int, int> Registry;
// CHECK-FIXES: std::unordered_map<int, int> Registry;

void registerAll() {
  std::thread Filler([] { Registry[1] = 1; });
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: 'Registry' is modified here on the thread started at line [[@LINE-1]] while it is read in 'registerAll'
  // CHECK-NOTES: unsynchronized-container-fixits.h:8:44: note: read here
  // CHECK-NOTES: :[[@LINE+3]]:16: note: reached through this call
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: unsynchronized-container-fixits.h:6:37: note: 'Registry' declared here
  bool Known = isRegistered(1);
  // CHECK-FIXES: std::thread Filler([] { Registry[1] = 1; });
  (void)Known;
  Filler.join();
}

// A map concguard-rewrite skips: no fix-it, a note with the reason.
std::unordered_map<int, int> Seeded{{1, 2}};
// CHECK-FIXES: std::unordered_map<int, int> Seeded{{.*}};

void seed() {
  std::thread Seeder([] { Seeded[2] = 3; });
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: 'Seeded' is modified here on the thread started at line [[@LINE-1]] while it is read in 'seed'
  // CHECK-NOTES: :[[@LINE+4]]:13: note: read here
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-8]]:30: note: 'Seeded' declared here
  // CHECK-NOTES: :[[@LINE-9]]:30: note: concguard-rewrite cannot rewrite 'Seeded': it has an initializer
  int Two = Seeded.count(2);
  (void)Two;
  Seeder.join();
  // CHECK-FIXES: std::thread Seeder([] { Seeded[2] = 3; });
}

// A vector: a concguard::synchronized, each statement that uses it one
// callback (the test and the read of `if` stay one step, under the read
// lock).
std::vector<int> Samples;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Samples;

int lastSample() {
  std::thread Sampler([] { Samples.push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:28: warning: 'Samples' is modified here on the thread started at line [[@LINE-1]] while it is read in 'lastSample'
  // CHECK-NOTES-COUNT-4: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+5]]:8: note: read here
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-9]]:18: note: 'Samples' declared here
  // CHECK-FIXES: std::thread Sampler([] { Samples.with_lock([&](auto &Samples) { Samples.push_back(1); }); });
  int Last = 0;
  if (!Samples.empty())
    Last = Samples.back();
  // CHECK-FIXES:      Samples.with_shared_lock([&](const auto &Samples) { if (!Samples.empty())
  // CHECK-FIXES-NEXT:     Last = Samples.back(); });
  Sampler.join();
  return Last;
}

// A vector whose element reference outlives the statement: no fix-it, a
// note with the reason.
std::vector<int> Slots;

void firstSlot() {
  std::thread Filler([] { Slots.push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: 'Slots' is modified here on the thread started at line [[@LINE-1]] while it is read in 'firstSlot'
  // CHECK-NOTES: :[[@LINE+4]]:16: note: read here
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE-7]]:18: note: 'Slots' declared here
  // CHECK-NOTES: :[[@LINE+1]]:16: note: concguard-rewrite cannot rewrite 'Slots': a reference, pointer or iterator into the container outlives the statement
  int &First = Slots[0];
  First = 2;
  Filler.join();
  // CHECK-FIXES: int &First = Slots[0];
}
