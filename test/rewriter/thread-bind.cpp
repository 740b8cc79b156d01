// A map given to a thread through std::bind (`std::thread t(std::bind(f,
// std::ref(m)))`, also `&f` and std::jthread) flows into f's reference
// parameter as for `std::thread t(f, std::ref(m))`: the thread starts are
// recognized by the shared thread model (ThreadSpawns), which resolves
// binders. A map bound by copy is refused.
// RUN: sed 's#// CHECK.*#//#; s#// SUMMARY.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 1 of 2 flagged maps, skipped 1:
// SUMMARY-NEXT: Copied ({{.*}}): the map is copied for the thread that runs 'total' (pass it with std::ref to a reference parameter) [{{.*}}.cpp:[[#@LINE+29]]:34]
// SUMMARY: rewrote parameter 'Counts' of 'count'
// CHECK: void count(concguard::sharded_map<int, int> &Counts) {
// CHECK-NEXT: for (int I = 0; I < 100; ++I)
// CHECK-NEXT: Counts.upsert(I % 4, [&](auto &value) { ++value; });
// CHECK: int run() {
// CHECK-NEXT: concguard::sharded_map<int, int> Counts;
// CHECK-NEXT: std::thread A(std::bind(count, std::ref(Counts)));
// CHECK-NEXT: std::jthread B(std::bind(&count, std::ref(Counts)));

#include <functional>
#include <thread>
#include <unordered_map>

void count(std::unordered_map<int, int> &Counts) {
  for (int I = 0; I < 100; ++I)
    ++Counts[I % 4];
}

void total(const std::unordered_map<int, int> &Copy) { (void)Copy.size(); }

std::unordered_map<int, int> Copied;

int run() {
  std::unordered_map<int, int> Counts;
  std::thread A(std::bind(count, std::ref(Counts)));
  std::jthread B(std::bind(&count, std::ref(Counts)));
  Counts[2] = 3;
  std::thread W([] { Copied[1] = 2; });
  std::thread C(std::bind(total, Copied));
  A.join();
  W.join();
  C.join();
  return static_cast<int>(Counts.size());
}
