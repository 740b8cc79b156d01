// The shapes of issue 19, each rewritten into the runtime's API: reads
// through at() and a kept find() iterator on a non-const map, fields of a
// struct value, check-then-act made one operation (and the one that stays
// two), an erase loop, a local reference to an element, a map given to a
// thread with std::ref.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 5 of 5 flagged maps
// CHECK: #include <concguard/sharded_map.hpp>
// CHECK: concguard::sharded_map<int, std::vector<std::string>> Feeds;
// CHECK: concguard::sharded_map<int, Endpoint> Stats;
// CHECK: concguard::sharded_map<int, int> Seen;
// CHECK: concguard::sharded_map<int, int> Ids;
// CHECK: void worker(concguard::sharded_map<int, int> &Counts) {
// CHECK-NEXT:   Counts.upsert(1, [&](auto &value) { ++value; });
// CHECK-NEXT: }
// CHECK: std::size_t reads(int K) {
// CHECK-NEXT:   std::size_t N = Feeds.at(K).size();
// CHECK-NEXT:   N += std::string(Feeds.at(K).front().c_str()).size();
// CHECK-NEXT:   auto It = Feeds.get(K);
// CHECK-NEXT:   if (!It.has_value() || (*It).empty())
// CHECK-NEXT:     return N;
// CHECK-NEXT:   return N + (*It).front().size();
// CHECK-NEXT: }
// CHECK: std::size_t writes(int K, const std::string &Line) {
// CHECK-NEXT:   Stats.upsert(K, [&](auto &value) { value.Hits++; });
// CHECK-NEXT:   Stats.upsert(K, [&](auto &value) { value.Last = Line; });
// CHECK-NEXT:   long Hits = Stats.get_or_insert_default(K).Hits;
// CHECK-NEXT:   Seen.insert(K, 1);
// CHECK-NEXT:   Seen.upsert(K, [&](auto &value) { value = value + 1; });
// CHECK-NEXT:   if (!Ids.contains(K))
// CHECK-NEXT:     Ids.insert(K, nextId());
// CHECK-NEXT:   Seen.erase_if(
// CHECK-NEXT:       [&](const auto &Key, const auto &Value) { return Value > 100; });
// CHECK-NEXT:   std::optional<std::size_t> concguard_result;
// CHECK-NEXT:   Feeds.upsert(K, [&](auto &Lines) {
// CHECK-NEXT:     Lines.push_back(Line);
// CHECK-NEXT:     concguard_result.emplace(Lines.size() + static_cast<std::size_t>(Hits));
// CHECK-NEXT:   });
// CHECK-NEXT:   return std::move(*concguard_result);
// CHECK-NEXT: }
// CHECK: int run() {
// CHECK-NEXT:   concguard::sharded_map<int, int> Counts;
// CHECK-NEXT:   std::thread A([] { writes(1, "a"); });
// CHECK-NEXT:   std::thread B(worker, std::ref(Counts));
// CHECK-NEXT:   std::size_t N = reads(1) + writes(2, "b");
// CHECK-NEXT:   Counts.insert_or_assign(2, 3);
// CHECK-NEXT:   A.join();
// CHECK-NEXT:   B.join();
// CHECK-NEXT:   return static_cast<int>(N);
// CHECK-NEXT: }

#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Endpoint {
  long Hits = 0;
  std::string Last;
};

std::unordered_map<int, std::vector<std::string>> Feeds;
std::unordered_map<int, Endpoint> Stats;
std::unordered_map<int, int> Seen;
std::unordered_map<int, int> Ids;

int nextId();

void worker(std::unordered_map<int, int> &Counts) { ++Counts[1]; }

std::size_t reads(int K) {
  std::size_t N = Feeds.at(K).size();
  N += std::string(Feeds.at(K).front().c_str()).size();
  auto It = Feeds.find(K);
  if (It == Feeds.end() || It->second.empty())
    return N;
  return N + It->second.front().size();
}

std::size_t writes(int K, const std::string &Line) {
  Stats[K].Hits++;
  Stats[K].Last = Line;
  long Hits = Stats[K].Hits;
  if (!Seen.count(K))
    Seen[K] = 1;
  Seen[K] = Seen[K] + 1;
  if (Ids.find(K) == Ids.end())
    Ids[K] = nextId();
  for (auto It = Seen.begin(); It != Seen.end();) {
    if (It->second > 100)
      It = Seen.erase(It);
    else
      ++It;
  }
  auto &Lines = Feeds[K];
  Lines.push_back(Line);
  return Lines.size() + static_cast<std::size_t>(Hits);
}

int run() {
  std::unordered_map<int, int> Counts;
  std::thread A([] { writes(1, "a"); });
  std::thread B(worker, std::ref(Counts));
  std::size_t N = reads(1) + writes(2, "b");
  Counts[2] = 3;
  A.join();
  B.join();
  return static_cast<int>(N);
}
