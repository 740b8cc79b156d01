// A map passed by reference to a function of the project is rewritten with
// the function's parameter: the parameter's type changes in every
// declaration (keeping `const` and `&`), and its uses are rewritten like the
// map's. All the maps passed to one parameter get one type. A parameter that
// cannot follow skips every map passed to it, with the function's name.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.again.cpp
// RUN: %concguard_rewrite %t.again.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=AGAIN %s
// RUN: diff %t.cpp %t.again.cpp

// SUMMARY: concguard-rewrite: rewrote 2 of 9 flagged maps, skipped 7:
// SUMMARY-DAG: Mixed ({{.*}}): the map is passed to 'sizeOf', which is also called with a map that is not rewritten [{{.*}}.cpp:[[#@LINE+137]]:31]
// SUMMARY-DAG: Copied ({{.*}}): the map is passed by value to 'copyCount' [{{.*}}.cpp:[[#@LINE+136]]:50]
// SUMMARY-DAG: Escaping ({{.*}}): the map is passed to 'first', where a reference into the map escapes [{{.*}}.cpp:[[#@LINE+101]]:36]
// SUMMARY-DAG: Own ({{.*}}): the map's address is taken [{{.*}}.cpp:[[#@LINE+129]]:22]
// SUMMARY-DAG: Buddy ({{.*}}): the map is passed to 'peek', which is also called with 'Own', which is not rewritten [{{.*}}.cpp:[[#@LINE+134]]:13]
// SUMMARY-DAG: Virtual ({{.*}}): the map is passed to 'Sink::take', a virtual function [{{.*}}.cpp:[[#@LINE+120]]:12]
// SUMMARY-DAG: Generic ({{.*}}): the map is passed to 'clearAll', a template [{{.*}}.cpp:[[#@LINE+120]]:14]
// SUMMARY-DAG: rewrote Hits ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote Settings ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'bump' ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'bumpTwice' ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'total' ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'lookup' ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'describe' ({{.*}}) -> concguard::sharded_map<std::string, int>
// SUMMARY-DAG: rewrote parameter 'Table' of 'overlap' ({{.*}}) -> concguard::sharded_map<std::string, int>
// AGAIN: concguard-rewrite: rewrote 0 of 7 flagged maps, skipped 7:

#include <cstddef>
#include <string>
#include <thread>
#include <unordered_map>

// CHECK: #include <concguard/sharded_map.hpp>
using Counts = std::unordered_map<std::string, int>;

// A prototype, and the definition below: every declaration changes.
void bump(Counts &Table, const std::string &Key);
// CHECK: void bump(concguard::sharded_map<std::string, int> &Table,
// CHECK-NEXT: const std::string &Key);
int total(const std::unordered_map<std::string, int> &);
// CHECK: int total(const concguard::sharded_map<std::string, int> &);

// Rewritten with their parameters. Settings alone would be read-mostly (a
// snapshot_map), but shares describe() with Hits: one type, a sharded_map.
Counts Hits;
// CHECK: concguard::sharded_map<std::string, int> Hits;
Counts Settings;
// CHECK: concguard::sharded_map<std::string, int> Settings;
// Skipped, each for one reason.
Counts Mixed;    // its function is also called with a local map
Counts Copied;   // passed by value
Counts Escaping; // the function returns a reference into it
Counts Own;      // its address is taken
Counts Buddy;    // shares peek() with Own
Counts Virtual;  // passed to a virtual function
Counts Generic;  // passed to a template
// CHECK: Counts Mixed;
// CHECK: Counts Generic;

// Non-const reference: writes.
void bump(Counts &Table, const std::string &Key) {
  // CHECK: void bump(concguard::sharded_map<std::string, int> &Table,
  // CHECK-NEXT: const std::string &Key) {
  Table[Key] += 1;
  // CHECK: Table.upsert(Key, [&](auto &value) { value += 1; });
  Table.emplace(Key + "!", 0);
  // CHECK: Table.emplace(Key + "!", 0);
}

// Passed on to another parameter rewritten with it.
void bumpTwice(Counts &Table) {
  // CHECK: void bumpTwice(concguard::sharded_map<std::string, int> &Table) {
  bump(Table, "a");
  bump(Table, "b");
}

// Const references: reads, through the alias or the full type.
int total(const std::unordered_map<std::string, int> &Table) {
  // CHECK: int total(const concguard::sharded_map<std::string, int> &Table) {
  int Sum = 0;
  for (const auto &[Key, N] : Table)
    Sum += N;
  // CHECK: Table.for_each([&](const auto &Key, const auto &N) { Sum += N; });
  if (Table.find("a") != Table.end())
    // CHECK: if (Table.contains("a"))
    Sum += Table.at("a");
  return Sum + static_cast<int>(Table.count("b"));
}

int lookup(const Counts &Table, const std::string &Key) {
  // CHECK: int lookup(const concguard::sharded_map<std::string, int> &Table,
  auto It = Table.find(Key);
  // CHECK: auto It = Table.get(Key);
  return It == Table.end() ? 0 : It->second;
  // CHECK: return !It.has_value() ? 0 : (*It);
}

std::size_t describe(const Counts &Table) { return Table.size(); }
// CHECK: std::size_t describe(const concguard::sharded_map<std::string, int> &Table) {
// CHECK-NEXT: return Table.size();

// Table may be Hits: a callback under Table's lock must not use Hits, so
// the loop runs over a copy.
int overlap(const Counts &Table) {
  int N = 0;
  for (const auto &[Key, Value] : Table)
    // CHECK: for (const auto &[Key, Value] : Table.snapshot())
    N += Hits.count(Key) ? Value : 0;
  return N;
}

int sizeOf(const Counts &Table) { return static_cast<int>(Table.size()); }
int copyCount(Counts Table) { return static_cast<int>(Table.size()); }
int &first(Counts &Table) { return Table["a"]; }
int peek(const Counts &Table) { return static_cast<int>(Table.count("a")); }
// CHECK: int sizeOf(const Counts &Table)
// CHECK: int copyCount(Counts Table)
// CHECK: int &first(Counts &Table) { return Table["a"]; }
// CHECK: int peek(const Counts &Table)
struct Sink {
  virtual ~Sink() = default;
  virtual void take(Counts &Table) { Table["v"] = 1; }
};
template <class Map> void clearAll(Map &Table) { Table.clear(); }

void writer() {
  Settings["mode"] = 1;
  Sink S;
  for (int I = 0; I < 100; ++I) {
    bumpTwice(Hits);
    Mixed[std::to_string(I)] = I;
    Copied[std::to_string(I)] = I;
    Escaping[std::to_string(I)] = I;
    Own[std::to_string(I)] = I;
    Buddy[std::to_string(I)] = I;
    S.take(Virtual);
    clearAll(Generic);
  }
}

int reader() {
  Counts Local;
  Counts *Pointer = &Own;
  int N = total(Hits) + lookup(Hits, "a") + lookup(Settings, "mode");
  N += static_cast<int>(describe(Hits) + describe(Settings));
  N += static_cast<int>(Settings.count("a") + Settings.count("b"));
  N += overlap(Settings);
  N += sizeOf(Mixed) + sizeOf(Local) + copyCount(Copied) + first(Escaping);
  N += peek(Own) + peek(Buddy) + static_cast<int>(Pointer->size());
  N += static_cast<int>(Virtual.size() + Generic.size());
  return N;
}

int run() {
  std::thread T(writer);
  int N = reader();
  T.join();
  return N;
}
