// Maps with a use that cannot be rewritten faithfully are skipped whole,
// with the reason and the place; nothing of them is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 8 flagged maps, skipped 8:
// CHECK-DAG: AddressTaken ({{.*}}): the map's address is taken [{{.*}}.cpp:[[#@LINE+40]]:
// CHECK-DAG: Escapes ({{.*}}): a reference into the map escapes [{{.*}}.cpp:[[#@LINE+40]]:
// CHECK-DAG: Initialized ({{.*}}): it has an initializer [{{.*}}.cpp:[[#@LINE+19]]:
// CHECK-DAG: IteratorKept ({{.*}}): an iterator from find() is written through, but not in an if that tests it right after the find() [{{.*}}.cpp:[[#@LINE+40]]:
// CHECK-DAG: LoopModifies ({{.*}}): the loop modifies the map's elements [{{.*}}.cpp:[[#@LINE+41]]:
// CHECK-DAG: Passed ({{.*}}): the map is passed to 'consume', whose definition is not in the files being rewritten [{{.*}}.cpp:[[#@LINE+42]]:
// CHECK-DAG: SystemPassed ({{.*}}): the map is passed to 'std::size', which is declared in a system header [{{.*}}.cpp:[[#@LINE+42]]:
// CHECK-DAG: ThroughAt ({{.*}}): a modification through at() evaluates an operand with side effects before at() would throw [{{.*}}.cpp:[[#@LINE+42]]:

#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

// Declared, but defined in no file being rewritten.
void consume(const std::unordered_map<int, int> &); int nextRow();

std::unordered_map<int, int> AddressTaken;
std::unordered_map<int, int> Escapes;
std::unordered_map<int, int> Initialized{{1, 2}};
std::unordered_map<int, int> IteratorKept;
std::unordered_map<int, std::vector<int>> LoopModifies;
std::unordered_map<int, int> Passed;
std::unordered_map<int, int> SystemPassed;
std::unordered_map<int, std::vector<int>> ThroughAt;

void writer() {
  AddressTaken[1] = 1;
  Escapes[1] = 1;
  Initialized[1] = 1;
  IteratorKept[1] = 1;
  LoopModifies[1].push_back(1);
  Passed[1] = 1;
  SystemPassed[1] = 1;
  ThroughAt[1].push_back(1);
}

int reader() {
  auto *P = &AddressTaken;
  int *Ref = &Escapes[1];
  int N = Initialized.count(1) ? 1 : 0;
  auto It = IteratorKept.find(1);
  N += It == IteratorKept.end() ? 0 : (It->second = 2);
  for (auto &[K, V] : LoopModifies)
    V.push_back(K);
  consume(Passed);
  N += static_cast<int>(std::size(SystemPassed));
  ThroughAt.at(1) = std::vector<int>(2, nextRow());
  return N + *Ref + static_cast<int>(P->size());
}

int run() {
  std::thread T(writer);
  int N = reader();
  T.join();
  return N;
}
