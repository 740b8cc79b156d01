// The clean twins of updates.cpp: writes through at() or a kept find()
// iterator that one update() callback cannot hold without changing what
// the program does. Each map is refused whole, with the reason and the place
// of the use that blocks it, and nothing is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 8 flagged maps, skipped 8:
// CHECK-DAG: ForIncrement ({{.*}}): a modification through at() is a for loop's increment, where no throw can be written [{{.*}}.cpp:[[#@LINE+90]]:26]
// CHECK-DAG: CallsBack ({{.*}}): the update through an iterator from find() calls a function that may use the map, which would run under the map's lock [{{.*}}.cpp:[[#@LINE+61]]:5]
// CHECK-DAG: Incremented ({{.*}}): an iterator from find() is used other than as it->first or it->second [{{.*}}.cpp:[[#@LINE+51]]:7]
// CHECK-DAG: Jumps ({{.*}}): the statements that write through an iterator from find() jump out of them (return, break, continue or goto), which a callback cannot [{{.*}}.cpp:[[#@LINE+34]]:5]
// CHECK-DAG: NotTested ({{.*}}): an iterator from find() is written through, but not in an if that tests it right after the find() [{{.*}}.cpp:[[#@LINE+41]]:13]
// CHECK-DAG: Returned ({{.*}}): a reference into the map escapes [{{.*}}.cpp:[[#@LINE+26]]:10]
// CHECK-DAG: ResultUsed ({{.*}}): the result of a modification through at() is used [{{.*}}.cpp:[[#@LINE+60]]:13]
// CHECK-DAG: ValueFirst ({{.*}}): a modification through at() evaluates an operand with side effects before at() would throw [{{.*}}.cpp:[[#@LINE+60]]:22]

#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<int, std::vector<int>> Returned;
std::unordered_map<int, int> Jumps;
std::unordered_map<int, int> NotTested;
std::unordered_map<int, int> Incremented;
std::unordered_map<int, int> CallsBack;
std::unordered_map<int, int> ResultUsed;
std::unordered_map<int, int> ValueFirst;
std::unordered_map<int, int> ForIncrement;

int next();

// An element reference returned: the callback's element dies with it.
std::vector<int> &row(int K) {
  auto It = Returned.find(K);
  if (It == Returned.end())
    throw std::out_of_range("row");
  It->second.push_back(1);
  return It->second;
}

int jumps(int K) {
  auto It = Jumps.find(K);
  if (It != Jumps.end()) {
    if (It->second > 10)
      return -1;
    It->second++;
  }
  return 0;
}

int notTested(int K) {
  auto It = NotTested.find(K);
  return It == NotTested.end() ? 0 : (It->second = 2);
}

void incremented(int K) {
  auto It = Incremented.find(K);
  if (It != Incremented.end()) {
    It->second = 0;
    ++It;
  }
}

int size() { return static_cast<int>(CallsBack.size()); }

void callsBack(int K) {
  auto It = CallsBack.find(K);
  if (It != CallsBack.end())
    It->second = size();
}

int atWrites(int K) {
  int Was = ++ResultUsed.at(K);
  ValueFirst.at(K) = next();
  return Was;
}

void writer() {
  for (int I = 0; I < 10; ++I) {
    Returned[I].push_back(I);
    Jumps[I] = I;
    NotTested[I] = I;
    Incremented[I] = I;
    CallsBack[I] = I;
    ResultUsed[I] = I;
    ValueFirst[I] = I;
    ForIncrement[I] = I;
  }
}

int run() {
  std::thread T(writer);
  int N = static_cast<int>(row(1).size()) + jumps(2) + notTested(3);
  incremented(4);
  callsBack(5);
  N += atWrites(6);
  for (int I = 0; I < 3; ForIncrement.at(7) += I)
    ++I;
  T.join();
  return N;
}
