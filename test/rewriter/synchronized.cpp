// Flagged containers that are not maps become concguard::synchronized<T>:
// each statement that uses one becomes one callback, under the read lock
// when it only reads (a test and its use in one statement stay one atomic
// step: `if (!Values.empty()) X = Values.back();`), under the write lock
// otherwise; a statement that only copies one value out (`return
// Values.size();`, an argument `Status.size()`) runs just that expression
// under the lock; a whole copy is `copy()`. Vector, deque, string, list
// and set. Two flagged containers in one statement would need two locks:
// the first is rewritten, the second refused.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++17 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 0 of 0 flagged maps
// SUMMARY-NEXT: rewrote 6 of 7 flagged non-map containers, skipped 1:
// SUMMARY-NEXT: Left ({{.*}}): a statement that must be rewritten uses it and another flagged container (two locks)
// SUMMARY-DAG: rewrote Values ({{.*}}) -> concguard::synchronized<std::vector<int>> (not a map: one reader-writer lock for the whole container)
// SUMMARY-DAG: rewrote Jobs ({{.*}}) -> concguard::synchronized<std::deque<int>>
// SUMMARY-DAG: rewrote Status ({{.*}}) -> concguard::synchronized<std::string>
// SUMMARY-DAG: rewrote Recent ({{.*}}) -> concguard::synchronized<std::list<int>>
// SUMMARY-DAG: rewrote Ids ({{.*}}) -> concguard::synchronized<std::set<int>>
// SUMMARY-DAG: rewrote Right ({{.*}}) -> concguard::synchronized<std::vector<int>>
// CHECK: #include <concguard/synchronized.hpp>
// CHECK: concguard::synchronized<std::vector<int>> Values;
// CHECK-NEXT: concguard::synchronized<std::deque<int>> Jobs;
// CHECK-NEXT: concguard::synchronized<std::string> Status;
// CHECK-NEXT: concguard::synchronized<std::list<int>> Recent;
// CHECK-NEXT: concguard::synchronized<std::set<int>> Ids;
// CHECK-NEXT: std::vector<int> Left;
// CHECK-NEXT: concguard::synchronized<std::vector<int>> Right;
// CHECK: int latest() {
// CHECK-NEXT:   int X = -1;
// CHECK-NEXT:   Values.with_shared_lock([&](const auto &Values) {
// CHECK-NEXT:     if (!Values.empty())
// CHECK-NEXT:       X = Values.back();
// CHECK-NEXT:   });
// CHECK-NEXT:   return X;
// CHECK-NEXT: }
// CHECK: std::size_t count() {
// CHECK-NEXT:   return Values.with_shared_lock(
// CHECK-NEXT:       [&](const auto &Values) { return Values.size(); });
// CHECK-NEXT: }
// CHECK: int firstOrZero() {
// CHECK-NEXT:   if (Values.with_shared_lock(
// CHECK-NEXT:           [&](const auto &Values) { return Values.empty(); }))
// CHECK-NEXT:     return 0;
// CHECK-NEXT:   int First = Values.with_shared_lock(
// CHECK-NEXT:       [&](const auto &Values) { return Values.front(); });
// CHECK-NEXT:   return First;
// CHECK-NEXT: }
// CHECK: int take() {
// CHECK-NEXT:   int Job = 0;
// CHECK-NEXT:   Jobs.with_lock([&](auto &Jobs) {
// CHECK-NEXT:     if (!Jobs.empty()) {
// CHECK-NEXT:       Job = Jobs.front();
// CHECK-NEXT:       Jobs.pop_front();
// CHECK-NEXT:     }
// CHECK-NEXT:   });
// CHECK-NEXT:   return Job;
// CHECK-NEXT: }
// CHECK: void reset() {
// CHECK-NEXT:   Values.with_lock([&](auto &Values) {
// CHECK-NEXT:     for (std::size_t I = 0; I < Values.size(); ++I)
// CHECK-NEXT:       Values[I] = 0;
// CHECK-NEXT:   });
// CHECK-NEXT: }
// CHECK: long sum() {
// CHECK-NEXT:   long Sum = 0;
// CHECK-NEXT:   Values.with_shared_lock([&](const auto &Values) {
// CHECK-NEXT:     for (int V : Values)
// CHECK-NEXT:       Sum += V;
// CHECK-NEXT:   });
// CHECK-NEXT:   return Sum;
// CHECK-NEXT: }
// CHECK: std::vector<int> snapshot() { return Values.copy(); }
// CHECK: void remember(int X) {
// CHECK-NEXT:   Recent.with_lock([&](auto &Recent) { Recent.push_front(X); });
// CHECK-NEXT:   Recent.with_lock([&](auto &Recent) {
// CHECK-NEXT:     if (Recent.size() > 8)
// CHECK-NEXT:       Recent.pop_back();
// CHECK-NEXT:   });
// CHECK-NEXT: }
// CHECK: bool fresh(int Id) {
// CHECK-NEXT:   return Ids.with_lock([&](auto &Ids) { return Ids.insert(Id).second; });
// CHECK-NEXT: }
// CHECK: void start() {
// CHECK-NEXT:   std::thread T([] {
// CHECK-NEXT:     for (int I = 0; I < 10; ++I) {
// CHECK-NEXT:       Values.with_lock([&](auto &Values) { Values.push_back(I); });
// CHECK-NEXT:       Jobs.with_lock([&](auto &Jobs) { Jobs.push_back(I); });
// CHECK-NEXT:       Status.with_lock([&](auto &Status) { Status += "x"; });
// CHECK-NEXT:       remember(I);
// CHECK-NEXT:       fresh(I);
// CHECK-NEXT:       Right.with_lock([&](auto &Right) { Right.push_back(I); });
// CHECK-NEXT:       Right.with_shared_lock(
// CHECK-NEXT:           [&](const auto &Right) { Left.push_back(Right.back()); });
// CHECK-NEXT:     }
// CHECK-NEXT:   });
// CHECK-NEXT:   T.detach();
// CHECK-NEXT: }
// CHECK: int main() {
// CHECK-NEXT:   start();
// CHECK-NEXT:   std::printf(
// CHECK-NEXT:       "%d %zu %d %d %ld %zu %zu %zu %d\n", latest(), count(), firstOrZero(),
// CHECK-NEXT:       take(), sum(), snapshot().size(),
// CHECK-NEXT:       Status.with_shared_lock(
// CHECK-NEXT:           [&](const auto &Status) { return Status.size(); }),
// CHECK-NEXT:       Recent.with_shared_lock(
// CHECK-NEXT:           [&](const auto &Recent) { return Recent.size(); }),
// CHECK-NEXT:       (int)Ids.with_shared_lock([&](const auto &Ids) { return Ids.count(3); }));
// CHECK-NEXT:   reset();
// CHECK-NEXT:   std::size_t Sizes = Left.size();
// CHECK-NEXT:   Sizes +=
// CHECK-NEXT:       Right.with_shared_lock([&](const auto &Right) { return Right.size(); });
// CHECK-NEXT:   return Sizes > 100;
// CHECK-NEXT: }

#include <cstdio>
#include <deque>
#include <list>
#include <set>
#include <string>
#include <thread>
#include <vector>

std::vector<int> Values;
std::deque<int> Jobs;
std::string Status;
std::list<int> Recent;
std::set<int> Ids;
std::vector<int> Left;
std::vector<int> Right;

int latest() {
  int X = -1;
  if (!Values.empty())
    X = Values.back();
  return X;
}

std::size_t count() { return Values.size(); }

int firstOrZero() {
  if (Values.empty())
    return 0;
  int First = Values.front();
  return First;
}

int take() {
  int Job = 0;
  if (!Jobs.empty()) {
    Job = Jobs.front();
    Jobs.pop_front();
  }
  return Job;
}

void reset() {
  for (std::size_t I = 0; I < Values.size(); ++I)
    Values[I] = 0;
}

long sum() {
  long Sum = 0;
  for (int V : Values)
    Sum += V;
  return Sum;
}

std::vector<int> snapshot() { return Values; }

void remember(int X) {
  Recent.push_front(X);
  if (Recent.size() > 8)
    Recent.pop_back();
}

bool fresh(int Id) { return Ids.insert(Id).second; }

void start() {
  std::thread T([] {
    for (int I = 0; I < 10; ++I) {
      Values.push_back(I);
      Jobs.push_back(I);
      Status += "x";
      remember(I);
      fresh(I);
      Right.push_back(I);
      Left.push_back(Right.back());
    }
  });
  T.detach();
}

int main() {
  start();
  std::printf("%d %zu %d %d %ld %zu %zu %zu %d\n", latest(), count(),
              firstOrZero(), take(), sum(), snapshot().size(), Status.size(),
              Recent.size(), (int)Ids.count(3));
  reset();
  std::size_t Sizes = Left.size();
  Sizes += Right.size();
  return Sizes > 100;
}
