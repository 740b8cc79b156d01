// The clean twins of synchronized.cpp: the same containers used in ways a
// synchronized<T> cannot keep (a reference, pointer or iterator kept beyond
// the statement, the container handed by reference to a function or with
// std::ref to a thread, a statement that calls back into the container or
// jumps out of it, a copy captured, an address taken, an insert's iterator
// kept, an initializer). Each container is refused whole, with the reason
// and the place of the use that blocks it, and nothing is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 11 flagged non-map containers, skipped 11:
// CHECK-DAG: AddressTaken ({{.*}}.cpp:39:18): the container's address is taken (pass the concguard::synchronized itself by reference, by hand) [{{.*}}.cpp:65:26]
// CHECK-DAG: CallsBack ({{.*}}.cpp:37:17): the statement calls a function that may use the container, which would run under its lock (call it into a local first) [{{.*}}.cpp:63:3]
// CHECK-DAG: Initialized ({{.*}}.cpp:41:18): it has an initializer [{{.*}}.cpp:41:18]
// CHECK-DAG: InsertResultKept ({{.*}}.cpp:40:15): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:67:25]
// CHECK-DAG: IteratorKept ({{.*}}.cpp:33:18): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:57:13]
// CHECK-DAG: JumpsOut ({{.*}}.cpp:38:18): a statement that uses the container returns, breaks, continues or jumps out of it, and uses it outside one condition or returned value (copy what the jump needs into a local first) [{{.*}}.cpp:49:3]
// CHECK-DAG: PassedByReference ({{.*}}.cpp:35:18): the container is passed by reference to 'fill' (give it a copy, or make it take the concguard::synchronized, by hand) [{{.*}}.cpp:60:8]
// CHECK-DAG: PassedWithRef ({{.*}}.cpp:36:18): the container is passed with 'std::ref', by reference, to code that may keep it beyond the lock (pass the concguard::synchronized itself, by hand) [{{.*}}.cpp:61:32]
// CHECK-DAG: PointerKept ({{.*}}.cpp:34:13): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:59:3]
// CHECK-DAG: ReferenceKept ({{.*}}.cpp:32:18): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:55:16]
// CHECK-DAG: Local ({{.*}}.cpp:86:20): the container is captured by copy (capture it by reference, or copy it into a local first) [{{.*}}.cpp:88:16]
#include <cstdio>
#include <deque>
#include <set>
#include <string>
#include <thread>
#include <vector>

std::vector<int> ReferenceKept;
std::vector<int> IteratorKept;
std::string PointerKept;
std::vector<int> PassedByReference;
std::vector<int> PassedWithRef;
std::deque<int> CallsBack;
std::vector<int> JumpsOut;
std::vector<int> AddressTaken;
std::set<int> InsertResultKept;
std::vector<int> Initialized{1, 2, 3};

const char *Saved = nullptr;

void fill(std::vector<int> &V) { V.push_back(1); }
std::size_t pending() { return CallsBack.size(); }

int firstOrZero() {
  if (!JumpsOut.empty())
    return JumpsOut.front();
  return 0;
}

void readers() {
  int &First = ReferenceKept[0];
  First = 2;
  auto It = IteratorKept.begin();
  *It = 3;
  Saved = PointerKept.c_str();
  fill(PassedByReference);
  std::thread T(fill, std::ref(PassedWithRef));
  T.join();
  CallsBack.push_back(static_cast<int>(pending()));
  std::printf("%d\n", firstOrZero());
  std::vector<int> *P = &AddressTaken;
  std::printf("%zu\n", P->size());
  auto [Where, Fresh] = InsertResultKept.insert(1);
  std::printf("%d %d\n", *Where, Fresh);
  std::printf("%zu\n", Initialized.size());
}

void writers() {
  ReferenceKept.push_back(1);
  IteratorKept.push_back(1);
  PointerKept += "x";
  PassedByReference.push_back(1);
  PassedWithRef.push_back(1);
  CallsBack.push_back(1);
  JumpsOut.push_back(1);
  AddressTaken.push_back(1);
  InsertResultKept.insert(2);
  Initialized.push_back(4);
}

void capturedByCopy() {
  std::vector<int> Local;
  std::thread T([&Local] { Local.push_back(1); });
  auto Size = [Local] { return Local.size(); };
  std::printf("%zu\n", Size());
  T.join();
}

int main() {
  std::thread W(writers);
  readers();
  W.join();
  capturedByCopy();
}
