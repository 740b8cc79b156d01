// A flagged container that is not a map, passed by reference to functions
// of the file: when every caller of such a function passes a flagged
// container (or a parameter rewritten with one), the parameter becomes a
// reference to the same concguard::synchronized<T> (const kept), the call
// stays as written, and the uses in the function's body are rewritten like
// the container's own. A function also called with a container that is not
// rewritten keeps its parameter, and the container is refused naming it.
// RUN: sed 's#// CHECK.*#//#; s#// SUMMARY.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 2 of 3 flagged non-map containers, skipped 1:
// SUMMARY-NEXT: Shared ({{.*}}.cpp:35:18): the container is passed to 'addAll', which is also called with a container that is not rewritten [{{.*}}.cpp:78:10]
// SUMMARY-DAG: rewrote Log ({{.*}}) -> concguard::synchronized<std::vector<std::string>> (not a map: one reader-writer lock for the whole container)
// SUMMARY-DAG: rewrote Ids ({{.*}}) -> concguard::synchronized<std::set<int>>
// SUMMARY-DAG: rewrote parameter 'Lines' of 'append' ({{.*}}) -> concguard::synchronized<std::vector<std::string>>
// SUMMARY-DAG: rewrote parameter 'Lines' of 'count' ({{.*}}) -> concguard::synchronized<std::vector<std::string>>
// SUMMARY-DAG: rewrote parameter 'Seen' of 'remember' ({{.*}}) -> concguard::synchronized<std::set<int>>

// CHECK: concguard::synchronized<std::vector<std::string>> Log;
// CHECK: concguard::synchronized<std::set<int>> Ids;
// CHECK: std::vector<int> Shared;

#include <set>
#include <string>
#include <thread>
#include <vector>

std::vector<std::string> Log;
std::set<int> Ids;
std::vector<int> Shared;

std::size_t count(const std::vector<std::string> &Lines) {
  return Lines.size();
}
// CHECK: std::size_t
// CHECK-NEXT: count(const concguard::synchronized<std::vector<std::string>> &Lines) {
// CHECK-NEXT: return Lines.with_shared_lock(
// CHECK-NEXT: [&](const auto &Lines) { return Lines.size(); });

// A parameter passed on to another function is rewritten with it.
void append(std::vector<std::string> &Lines, const std::string &Line) {
  Lines.push_back(Line);
  if (count(Lines) > 100)
    Lines.erase(Lines.begin());
}
// CHECK: void append(concguard::synchronized<std::vector<std::string>> &Lines,
// CHECK-NEXT: const std::string &Line) {
// CHECK-NEXT: Lines.with_lock([&](auto &Lines) { Lines.push_back(Line); });
// CHECK-NEXT: if (count(Lines) > 100)
// CHECK-NEXT: Lines.with_lock([&](auto &Lines) { Lines.erase(Lines.begin()); });

bool remember(std::set<int> &Seen, int Id) {
  return Seen.insert(Id).second;
}
// CHECK: bool remember(concguard::synchronized<std::set<int>> &Seen, int Id) {
// CHECK-NEXT: return Seen.with_lock([&](auto &Seen) { return Seen.insert(Id).second; });
// CHECK: void addAll(std::vector<int> &Into, int N) {

void addAll(std::vector<int> &Into, int N) {
  for (int I = 0; I < N; ++I)
    Into.push_back(I);
}

int run() {
  std::thread W([] {
    for (int I = 0; I < 10; ++I) {
      append(Log, "x");
      remember(Ids, I);
      addAll(Shared, 2);
    }
  });
  std::vector<int> Local;
  addAll(Local, 3);
  int Fresh = remember(Ids, 3) ? 1 : 0;
  append(Log, "y");
  Shared.push_back(1);
  W.join();
  return Fresh + static_cast<int>(count(Log) + Local.size());
}
// CHECK: append(Log, "x");
// CHECK: addAll(Shared, 2);
// CHECK: append(Log, "y");
// CHECK: return Fresh + static_cast<int>(count(Log) + Local.size());
