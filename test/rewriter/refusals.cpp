// The clean twins of the shapes issue 19 rewrites: the same constructs where
// the rewrite would change meaning. Each map is refused whole, with the
// reason and the place of the use that blocks it, and nothing is changed.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.orig.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck %s
// RUN: diff %t.cpp %t.orig.cpp

// CHECK: concguard-rewrite: rewrote 0 of 8 flagged maps, skipped 8:
// CHECK-DAG: ByValue ({{.*}}.cpp:34:30): the map is copied for the thread that runs 'countAll' (pass it with std::ref to a reference parameter) [{{.*}}.cpp:73:33]
// CHECK-DAG: IteratorWrites ({{.*}}.cpp:30:43): an iterator from find() is used after the statements that one update() callback can hold [{{.*}}.cpp:61:22]
// CHECK-DAG: PointerKept ({{.*}}.cpp:28:51): a reference into the map escapes [{{.*}}.cpp:56:23]
// CHECK-DAG: PredicateUsesMap ({{.*}}.cpp:33:30): the erase loop's condition uses the map [{{.*}}.cpp:68:9]
// CHECK-DAG: ReferenceAcrossUse ({{.*}}.cpp:31:43): the map is used while a reference to an element is kept [{{.*}}.cpp:63:3]
// CHECK-DAG: ReferenceStored ({{.*}}.cpp:32:43): a reference to an element is kept in a way the rewriter cannot put in one callback [{{.*}}.cpp:66:13]
// CHECK-DAG: UpdateCallsBack ({{.*}}.cpp:35:35): the update of m{{\[}}k] calls a function that may use the map, which would run under the map's lock [{{.*}}.cpp:75:3]
// CHECK-DAG: WrittenThroughAt ({{.*}}.cpp:29:43): a modification through at() evaluates an operand with side effects before at() would throw [{{.*}}.cpp:57:28]

#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Endpoint {
  long Hits = 0;
};

std::unordered_map<int, std::vector<std::string>> PointerKept;
std::unordered_map<int, std::vector<int>> WrittenThroughAt;
std::unordered_map<int, std::vector<int>> IteratorWrites;
std::unordered_map<int, std::vector<int>> ReferenceAcrossUse;
std::unordered_map<int, std::vector<int>> ReferenceStored;
std::unordered_map<int, int> PredicateUsesMap;
std::unordered_map<int, int> ByValue;
std::unordered_map<int, Endpoint> UpdateCallsBack;

std::vector<int> *Stored = nullptr;
std::vector<int> makeRow();

void countAll(std::unordered_map<int, int> Copy) { (void)Copy.size(); }

long total() { return static_cast<long>(UpdateCallsBack.size()); }

void writer() {
  PointerKept[1].push_back("x");
  WrittenThroughAt[1].push_back(1);
  IteratorWrites[1].push_back(1);
  ReferenceAcrossUse[1].push_back(1);
  ReferenceStored[1].push_back(1);
  PredicateUsesMap[1] = 1;
  ByValue[1] = 1;
  UpdateCallsBack[1].Hits++;
}

std::size_t reader() {
  const char *First = PointerKept.at(1).front().c_str();
  WrittenThroughAt.at(1) = makeRow();
  auto It = IteratorWrites.find(1);
  if (It != IteratorWrites.end())
    It->second.push_back(3);
  std::size_t Seen = It == IteratorWrites.end() ? 0 : It->second.size();
  auto &Kept = ReferenceAcrossUse[1];
  ReferenceAcrossUse[2].push_back(4);
  Kept.push_back(5);
  auto &Escaping = ReferenceStored[1];
  Stored = &Escaping;
  for (auto I = PredicateUsesMap.begin(); I != PredicateUsesMap.end();) {
    if (PredicateUsesMap.count(I->first + 1))
      I = PredicateUsesMap.erase(I);
    else
      ++I;
  }
  std::thread Counter(countAll, ByValue);
  Counter.join();
  UpdateCallsBack[1].Hits = total();
  return First[0] + Stored->size() + Seen;
}

int run() {
  std::thread T(writer);
  std::size_t N = reader();
  T.join();
  return static_cast<int>(N);
}
