// The clean twins of synchronized.cpp: the same containers used in ways a
// synchronized<T> cannot keep (a reference, pointer or iterator kept beyond
// the statement, the container handed by reference to a function or with
// std::ref to anything but a thread's function, a statement that calls back
// into the container or jumps out of it, a copy captured, an address taken,
// an insert's iterator kept, an initializer, two declared together). Each container is refused
// whole, with the reason and the place of the use that blocks it, and
// nothing is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 13 flagged non-map containers, skipped 13:
// CHECK-DAG: AddressTaken ({{.*}}.cpp:43:18): the container's address is taken (pass the concguard::synchronized itself by reference, by hand) [{{.*}}.cpp:70:26]
// CHECK-DAG: CallsBack ({{.*}}.cpp:41:17): the statement calls a function that may use the container, which would run under its lock (call it into a local first) [{{.*}}.cpp:68:3]
// CHECK-DAG: DeclaredA ({{.*}}.cpp:46:18): it is declared together with other variables [{{.*}}.cpp:46:18]
// CHECK-DAG: DeclaredB ({{.*}}.cpp:46:29): it is declared together with other variables [{{.*}}.cpp:46:29]
// CHECK-DAG: Initialized ({{.*}}.cpp:45:18): it has an initializer [{{.*}}.cpp:45:18]
// CHECK-DAG: InsertResultKept ({{.*}}.cpp:44:15): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:72:25]
// CHECK-DAG: IteratorKept ({{.*}}.cpp:37:18): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:62:13]
// CHECK-DAG: JumpsOut ({{.*}}.cpp:42:18): a statement that uses the container returns, breaks, continues or jumps out of it, and uses it outside one condition or returned value (copy what the jump needs into a local first) [{{.*}}.cpp:54:3]
// CHECK-DAG: PassedByReference ({{.*}}.cpp:39:18): the container is passed to 'fill', which is also called with 'PassedWithRef', which is not rewritten [{{.*}}.cpp:67:8]
// CHECK-DAG: PassedWithRef ({{.*}}.cpp:40:18): the container is passed with 'std::ref', by reference, to code that may keep it beyond the lock (pass the concguard::synchronized itself, by hand) [{{.*}}.cpp:66:17]
// CHECK-DAG: PointerKept ({{.*}}.cpp:38:13): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:64:3]
// CHECK-DAG: ReferenceKept ({{.*}}.cpp:36:18): a reference, pointer or iterator into the container outlives the statement (copy the element, or do the work in one statement) [{{.*}}.cpp:60:16]
// CHECK-DAG: Local ({{.*}}.cpp:94:20): the container is captured by copy (capture it by reference, or copy it into a local first) [{{.*}}.cpp:96:16]

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
std::vector<int> DeclaredA, DeclaredB;

const char *Saved = nullptr;

void fill(std::vector<int> &V) { V.push_back(1); } void keep(std::reference_wrapper<std::vector<int>> V);
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
  keep(std::ref(PassedWithRef));
  fill(PassedWithRef);
  CallsBack.push_back(static_cast<int>(pending()));
  std::printf("%d\n", firstOrZero());
  std::vector<int> *P = &AddressTaken;
  std::printf("%zu\n", P->size());
  auto [Where, Fresh] = InsertResultKept.insert(1);
  std::printf("%d %d\n", *Where, Fresh);
  std::printf("%zu\n", Initialized.size());
  std::printf("%zu\n", DeclaredA.size() + DeclaredB.size());
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
  DeclaredA.push_back(1);
  DeclaredB.push_back(1);
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
