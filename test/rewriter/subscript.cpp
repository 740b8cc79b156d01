// Every form of m[k]: statement writes become upsert / insert_or_assign, a
// read becomes get_or_insert_default (operator[] inserts; so does that).
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp --strict-whitespace %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.again.cpp
// RUN: %concguard_rewrite %t.again.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=AGAIN %s
// RUN: diff %t.cpp %t.again.cpp

// SUMMARY: concguard-rewrite: rewrote 1 of 1 flagged map
// SUMMARY: rewrote Totals ({{.*}}) -> concguard::sharded_map<int, std::vector<int>>
// AGAIN: concguard-rewrite: rewrote 0 of 0 flagged maps

#include <cstddef>
#include <thread>
#include <unordered_map>
#include <vector>

// CHECK: #include <concguard/sharded_map.hpp>
// CHECK: concguard::sharded_map<int, std::vector<int>> Totals;
std::unordered_map<int, std::vector<int>> Totals;
std::unordered_map<int, int> Unshared; // not racy: left alone
// CHECK: std::unordered_map<int, int> Unshared;

void writer() {
  for (int I = 0; I < 100; ++I) {
    Totals[I % 4].push_back(I);
    // CHECK: Totals.upsert(I % 4, [&](auto &value) { value.push_back(I); });
    Totals[I % 4] = {I};
    // CHECK: Totals.insert_or_assign(I % 4, {I});
    Totals[I] = std::vector<int>(2, I);
    // CHECK: Totals.insert_or_assign(I, std::vector<int>(2, I));
  }
}

std::size_t reader(int Key) {
  std::size_t Size = Totals[Key].size();
  // CHECK: std::size_t Size = Totals.get_or_insert_default(Key).size();
  const std::vector<int> Copy = Totals[Key + 1];
  // CHECK: const std::vector<int> Copy = Totals.get_or_insert_default(Key + 1);
  return Size + Copy.size();
}

void run() {
  Unshared[1] = 2;
  std::thread T(writer);
  std::size_t N = reader(1);
  T.join();
  (void)N;
}
