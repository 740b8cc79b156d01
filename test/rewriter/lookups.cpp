// Lookups, insertions and whole-map calls, and range-for loops.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place --policy=sharded -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp --strict-whitespace %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp

// SUMMARY: rewrote 1 of 1 flagged map
// SUMMARY: rewrote Index ({{.*}}) -> concguard::sharded_map<std::string, int>

#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

// CHECK: concguard::sharded_map<std::string, int> Index;
std::unordered_map<std::string, int> Index;

int lookups(const std::string &Key) {
  int Found = 0;
  if (Index.find(Key) != Index.end())
    // CHECK: if (Index.contains(Key))
    ++Found;
  if (Index.find(Key) == Index.end())
    // CHECK: if (!Index.contains(Key))
    --Found;
  Found += static_cast<int>(Index.count(Key));
  // CHECK: Found += static_cast<int>(Index.count(Key));
  Found += Index.at(Key);
  // CHECK: Found += Index.at(Key);
  Found += static_cast<int>(Index.size()) + (Index.empty() ? 1 : 0);
  // CHECK: Found += static_cast<int>(Index.size()) + (Index.empty() ? 1 : 0);
  for (const auto &[Name, Count] : Index)
    // CHECK: Index.for_each([&](const auto &Name, const auto &Count)
    Found += Count + static_cast<int>(Name.size());
  // CHECK: { Found += Count + static_cast<int>(Name.size()); });
  for (const auto &[Name, Count] : Index) {
    // CHECK: Index.for_each([&](const auto &Name, const auto &Count) {
    if (Name.empty())
      continue;
    // CHECK: return;
    for (int I = 0; I < Count; ++I)
      if (I > 3)
        break;
    Found += Count;
  }
  // CHECK: Found += Count;
  // CHECK-NEXT: });
  // The body uses the map (a callback must not) or leaves the loop early:
  // a loop over a copy instead.
  for (const auto &[Name, Count] : Index)
    // CHECK: for (const auto &[Name, Count] : Index.snapshot())
    Found += static_cast<int>(Index.count(Name + "x")) + Count;
  for (const auto &[Name, Count] : Index) {
    // CHECK: for (const auto &[Name, Count] : Index.snapshot()) {
    if (Count > 100)
      break;
    Found += Count;
  }
  // A pair used only as .first / .second: for_each too.
  for (const auto &Entry : Index)
    // CHECK: Index.for_each([&](const auto &Key, const auto &Value)
    Found += Entry.second;
  // CHECK: { Found += Value; });
  return Found;
}

void writes(const std::string &Key) {
  Index.insert({Key, 1});
  // CHECK: Index.insert(Key, 1);
  Index.insert(std::make_pair(Key + "x", 2));
  // CHECK: Index.insert(Key + "x", 2);
  Index.emplace(Key + "y", 3);
  // CHECK: Index.emplace(Key + "y", 3);
  Index.try_emplace(Key + "z", 4);
  // CHECK: Index.try_emplace(Key + "z", 4);
  Index.insert_or_assign(Key, 5);
  // CHECK: Index.insert_or_assign(Key, 5);
  Index[Key] += 6;
  // CHECK: Index.upsert(Key, [&](auto &value) { value += 6; });
  ++Index[Key];
  // CHECK: Index.upsert(Key, [&](auto &value) { ++value; });
  Index.erase(Key);
  // CHECK: Index.erase(Key);
  Index.reserve(64);
  Index.clear();
}

int run() {
  std::thread T([] { writes("k"); });
  int N = lookups("k");
  T.join();
  return N;
}
