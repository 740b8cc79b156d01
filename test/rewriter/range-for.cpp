// Range-for over a map. A loop variable used only as `p.first` / `p.second`
// (read) becomes for_each like a structured binding, `p.first` and
// `p.second` the callback's parameters (names the body does not spell); the
// loop's own `continue` becomes `return`. A loop variable used in any other
// way, a body that leaves the loop early or uses the map, and a member read
// inside an expression that another map's rewrite replaces keep the loop,
// over a copy.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place --policy=sharded -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp --strict-whitespace %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.again.cpp
// RUN: %concguard_rewrite %t.again.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=AGAIN %s
// RUN: diff %t.cpp %t.again.cpp

// SUMMARY: rewrote 2 of 2 flagged maps
// AGAIN: rewrote 0 of 0 flagged maps

#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

std::unordered_map<std::string, int> Index;
std::unordered_map<std::string, int> Totals;

void show(const std::pair<const std::string, int> &Entry);

int loops() {
  int Found = 0;
  for (const auto &Entry : Index)
    Found += Entry.second + static_cast<int>(Entry.first.size());
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) {
  // CHECK-NEXT: Found += Value + static_cast<int>(Key.size());
  // CHECK-NEXT: });
  for (auto &entry : Index) {
    if (entry.second < 0)
      continue;
    for (int I = 0; I < 3; ++I)
      if (I == entry.second)
        continue;
    std::printf("%s %d\n", entry.first.c_str(), entry.second);
  }
  // CHECK: Index.for_each([&](const auto &key, const auto &value) {
  // CHECK-NEXT: if (value < 0)
  // CHECK-NEXT: return;
  // CHECK-NEXT: for (int I = 0; I < 3; ++I)
  // CHECK-NEXT: if (I == value)
  // CHECK-NEXT: continue;
  // CHECK-NEXT: std::printf("%s %d\n", key.c_str(), value);
  // CHECK-NEXT: });
  for (auto Copy : Index)
    Found += Copy.second;
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) { Found += Value; });
  // The body spells `Key` and `Value`, then `K` and `V`.
  for (const auto &Entry : Index) {
    int Key = 1, Value = 2;
    Found += Entry.second + Key + Value;
  }
  // CHECK: Index.for_each([&](const auto &K, const auto &V) {
  // CHECK: Found += V + Key + Value;
  for (const auto &Entry : Index) {
    int Key = 1, Value = 2, K = 3;
    Found += Entry.second + Key + Value + K;
  }
  // CHECK: Index.for_each([&](const auto &EntryKey, const auto &EntryValue) {
  // CHECK: Found += EntryValue + Key + Value + K;

  // Over a copy: the pair is passed whole; the loop breaks; the body uses
  // the map (a callback must not); the member is read inside an expression
  // that Totals' rewrite replaces.
  for (const auto &Entry : Index)
    show(Entry);
  // CHECK: for (const auto &Entry : Index.snapshot())
  // CHECK-NEXT: show(Entry);
  for (const auto &Entry : Index) {
    if (Entry.second > 3)
      break;
    Found += Entry.second;
  }
  // CHECK: for (const auto &Entry : Index.snapshot()) {
  for (const auto &Entry : Index)
    Index.count(Entry.first + "x") ? ++Found : --Found;
  // CHECK: for (const auto &Entry : Index.snapshot())
  // CHECK-NEXT: Index.count(Entry.first + "x") ? ++Found : --Found;
  for (const auto &[Name, Count] : Index)
    Index.count(Name + "x") ? ++Found : --Found;
  // CHECK: for (const auto &[Name, Count] : Index.snapshot())
  for (const auto &Entry : Index)
    Totals[Entry.first] = Entry.second;
  // CHECK: for (const auto &Entry : Index.snapshot())
  // CHECK-NEXT: Totals.insert_or_assign(Entry.first, Entry.second);
  return Found;
}

void run() {
  std::thread T([] {
    for (int I = 0; I < 10; ++I) {
      Index[std::to_string(I)] = I;
      Totals["all"] += I;
    }
  });
  int N = loops();
  T.join();
  (void)N;
}
