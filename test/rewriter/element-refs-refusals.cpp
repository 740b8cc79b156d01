// The clean twins of element-refs.cpp: a reference bound to m.at(k), or a
// kept find() iterator tested with `== end()` and an else, where one
// update() callback cannot hold the statements without changing what the
// program does. Each map is refused whole, with the reason and the place of
// the use that blocks it, and nothing is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 10 flagged maps, skipped 10:
// CHECK-DAG: UsedBetween ({{.*}}): the map is used while a reference to an element is kept [{{.*}}.cpp:43:3]
// CHECK-DAG: JumpBetween ({{.*}}): a reference to an element is kept in a way the rewriter cannot put in one callback [{{.*}}.cpp:50:3]
// CHECK-DAG: AddressKept ({{.*}}): a reference to an element is kept in a way the rewriter cannot put in one callback [{{.*}}.cpp:59:12]
// CHECK-DAG: CallBetween ({{.*}}): a reference to an element is kept across a call of a function that may use the map [{{.*}}.cpp:67:3]
// CHECK-DAG: ConstAcrossWrite ({{.*}}): the map is used while a reference to an element is kept [{{.*}}.cpp:73:3]
// CHECK-DAG: ConstPointer ({{.*}}): a reference into the map escapes [{{.*}}.cpp:80:11]
// CHECK-DAG: ElseReturns ({{.*}}): the statements that write through an iterator from find() jump out of them (return, break, continue or goto), which a callback cannot [{{.*}}.cpp:90:5]
// CHECK-DAG: ElseUsesMap ({{.*}}): the map is used while an iterator from find() is kept [{{.*}}.cpp:100:35]
// CHECK-DAG: UsedAfterElse ({{.*}}): an iterator from find() is used after the statements that one update() callback can hold [{{.*}}.cpp:110:10]

#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<int, std::vector<int>> UsedBetween;
std::unordered_map<int, std::vector<int>> JumpBetween;
std::unordered_map<int, std::vector<int>> AddressKept;
std::unordered_map<int, std::vector<int>> CallBetween;
std::unordered_map<int, std::vector<int>> ConstAcrossWrite;
std::unordered_map<int, std::vector<int>> ConstPointer;
std::unordered_map<int, int> ElseReturns;
std::unordered_map<int, int> ElseUsesMap;
std::unordered_map<int, int> UsedAfterElse;

std::vector<int> *Saved;
const int *First;

// Another use of the map while the reference is kept: the callback would
// hold the map's lock across it.
void usedBetween(int K) {
  auto &V = UsedBetween.at(K);
  UsedBetween[K + 1].clear();
  V.push_back(1);
}

// A jump between the uses: a callback cannot return from the function.
int jumpBetween(int K) {
  auto &V = JumpBetween.at(K);
  if (V.empty())
    return 0;
  V.push_back(2);
  return 1;
}

// The address of the element leaves the statements.
void addressKept(int K) {
  auto &V = AddressKept.at(K);
  Saved = &V;
}

int callBetweenSize() { return static_cast<int>(CallBetween.size()); }

// A call that reads the map would run under its lock.
void callBetween(int K) {
  auto &V = CallBetween.at(K);
  V.push_back(callBetweenSize());
}

// A const reference sees a later write of the same map; the copy would not.
std::size_t constAcrossWrite(int K) {
  const auto &V = ConstAcrossWrite.at(K);
  ConstAcrossWrite[K].push_back(3);
  return V.size();
}

// A pointer into the copy a const reference keeps alive outlives it.
void constPointer(int K) {
  const auto &V = ConstPointer.at(K);
  First = V.data();
}

// The branch that writes returns from the function.
int elseReturns(int K) {
  auto It = ElseReturns.find(K);
  if (It == ElseReturns.end()) {
    return -1;
  } else {
    It->second++;
    return It->second;
  }
}

// The branch that writes uses the map again.
void elseUsesMap(int K) {
  auto It = ElseUsesMap.find(K);
  if (It == ElseUsesMap.end())
    ElseUsesMap.emplace(K, 0);
  else
    It->second = static_cast<int>(ElseUsesMap.size());
}

// The iterator is read after the if.
int usedAfterElse(int K) {
  auto It = UsedAfterElse.find(K);
  if (It == UsedAfterElse.end())
    return 0;
  else
    It->second++;
  return It->second;
}

void writer() {
  for (int I = 0; I < 10; ++I) {
    UsedBetween[I].push_back(I);
    JumpBetween[I].push_back(I);
    AddressKept[I].push_back(I);
    CallBetween[I].push_back(I);
    ConstAcrossWrite[I].push_back(I);
    ConstPointer[I].push_back(I);
    ElseReturns[I] = I;
    ElseUsesMap[I] = I;
    UsedAfterElse[I] = I;
  }
}

int run() {
  std::thread T(writer);
  usedBetween(1);
  int N = jumpBetween(2);
  addressKept(3);
  callBetween(4);
  N += static_cast<int>(constAcrossWrite(5));
  constPointer(6);
  N += elseReturns(7);
  elseUsesMap(8);
  N += usedAfterElse(9);
  T.join();
  return N;
}

// A const reference to m[k] returned by reference: the copy it would bind
// dies with the function.
std::unordered_map<int, std::vector<int>> ConstReturned;

const std::vector<int> &constReturned(int K) {
  const auto &V = ConstReturned[K];
  return V;
}

int runReturned() {
  std::thread T([] { ConstReturned[1].push_back(1); });
  int N = static_cast<int>(constReturned(2).size());
  T.join();
  return N;
}
// CHECK-DAG: ConstReturned ({{.*}}): a reference into the map escapes [{{.*}}.cpp:148:10]
