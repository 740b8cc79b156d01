// A flagged container that is not a map, given to a thread with std::ref or
// std::cref (`std::thread t(f, std::ref(v))`, also through std::bind) flows
// into f's reference parameter as for a direct call of f: the parameter
// becomes a reference to the same concguard::synchronized<T> (const kept),
// and the std::ref stays as written. std::ref handed to anything other than
// a thread's function is refused where it is given.
// RUN: sed 's#// CHECK.*#//#; s#// SUMMARY.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 2 of 3 flagged non-map containers, skipped 1:
// SUMMARY-NEXT: Kept ({{.*}}.cpp:[[#@LINE+45]]:28): the container is passed with 'std::ref', by reference, to code that may keep it beyond the lock (pass the concguard::synchronized itself, by hand) [{{.*}}.cpp:[[#@LINE+47]]:17]
// SUMMARY-DAG: rewrote Lines ({{.*}}) -> concguard::synchronized<std::vector<std::string>> (not a map: one reader-writer lock for the whole container)
// SUMMARY-DAG: rewrote Names ({{.*}}) -> concguard::synchronized<std::vector<std::string>> (not a map: one reader-writer lock for the whole container)
// SUMMARY-DAG: rewrote parameter 'Out' of 'fill' ({{.*}}) -> concguard::synchronized<std::vector<std::string>>
// SUMMARY-DAG: rewrote parameter 'In' of 'count' ({{.*}}) -> concguard::synchronized<std::vector<std::string>>

// CHECK: void fill(concguard::synchronized<std::vector<std::string>> &Out) {
// CHECK-NEXT: Out.with_lock([&](auto &Out) { Out.push_back("x"); });
// CHECK: void count(const concguard::synchronized<std::vector<std::string>> &In) {
// CHECK-NEXT: use(In.with_shared_lock([&](const auto &In) { return In.size(); }));
// CHECK: concguard::synchronized<std::vector<std::string>> Lines;
// CHECK-NEXT: std::thread T(fill, std::ref(Lines));
// CHECK-NEXT: use(Lines.with_shared_lock([&](const auto &Lines) { return Lines.size(); }));
// CHECK: concguard::synchronized<std::vector<std::string>> Names;
// CHECK-NEXT: std::thread T(std::bind(count, std::cref(Names)));
// CHECK-NEXT: Names.with_lock([&](auto &Names) { Names.push_back("y"); });
// CHECK: std::vector<std::string> Kept;
// CHECK-NEXT: std::thread T([&] { Kept.push_back("x"); });
// CHECK-NEXT: keep(std::ref(Kept));

#include <functional>
#include <string>
#include <thread>
#include <vector>

void use(std::size_t);
void fill(std::vector<std::string> &Out) { Out.push_back("x"); }
void count(const std::vector<std::string> &In) { use(In.size()); }
void keep(std::reference_wrapper<std::vector<std::string>> Kept);

void stdRefArgument() {
  std::vector<std::string> Lines;
  std::thread T(fill, std::ref(Lines));
  use(Lines.size());
  T.join();
}

void crefThroughBind() {
  std::vector<std::string> Names;
  std::thread T(std::bind(count, std::cref(Names)));
  Names.push_back("y");
  T.join();
}

void handedElsewhere() {
  std::vector<std::string> Kept;
  std::thread T([&] { Kept.push_back("x"); });
  keep(std::ref(Kept));
  T.join();
}
