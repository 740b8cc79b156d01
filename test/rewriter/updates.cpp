// Writes through at() and through a kept find() iterator become the
// runtime's update(k, callback), which says whether the key was there: a
// write through at() keeps its std::out_of_range for a missing key, and the
// statements that write through an iterator tested against end() run in
// one callback (the test and the write are one atomic step).
// RUN: sed 's#// CHECK.*#//#; s#// SUMMARY.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 3 of 3 flagged maps

#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Endpoint {
  long Hits = 0;
  std::string Last;
};

std::unordered_map<int, std::vector<std::string>> Feeds;
std::unordered_map<int, int> Counts;
std::unordered_map<int, Endpoint> Stats;

void throughAt(int K, const std::string &Line, bool Reset) {
  Feeds.at(K).push_back(Line);
  // CHECK: if (!Feeds.update(K, [&](auto &value) { value.push_back(Line); }))
  // CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
  Counts.at(K) = 3;
  // CHECK: if (!Counts.update(K, [&](auto &value) { value = 3; }))
  // CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
  Counts.at(K) += static_cast<int>(Line.size());
  // CHECK: if (!Counts.update(
  // CHECK-NEXT: K, [&](auto &value) { value += static_cast<int>(Line.size()); }))
  // A branch becomes a block, so that the `else` stays with its if.
  if (Reset)
    Counts.at(K) = 0;
  else
    ++Counts.at(K);
  // CHECK: if (Reset) {
  // CHECK-NEXT: if (!Counts.update(K, [&](auto &value) { value = 0; }))
  // CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
  // CHECK-NEXT: } else {
  // CHECK-NEXT: if (!Counts.update(K, [&](auto &value) { ++value; }))
  // CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
  // CHECK-NEXT: }
  Stats.at(K).Hits++;
  // CHECK: if (!Stats.update(K, [&](auto &value) { value.Hits++; }))
  // A read stays a read of the copy at() returns.
  std::size_t N = Feeds.at(K).size();
  // CHECK: std::size_t N = Feeds.at(K).size();
  Stats.at(K).Last = Line.substr(0, N);
  // CHECK: if (!Stats.update(K, [&](auto &value) { value.Last = Line.substr(0, N); }))
}

// `if (It != m.end())` right after the find(): the branch is the callback.
void throughIterator(int K, const std::string &Line) {
  auto It = Counts.find(K);
  if (It != Counts.end())
    It->second += 4;
  if (auto Found = Stats.find(K); Found != Stats.end()) {
    Found->second.Hits += Found->first;
    Found->second.Last = Line;
  }
}
// CHECK: void throughIterator(int K, const std::string &Line) {
// CHECK-NEXT: Counts.update(K, [&](auto &value) { value += 4; });
// CHECK-NEXT: Stats.update(K, [&](const auto &key, auto &value) {
// CHECK-NEXT: value.Hits += key;
// CHECK-NEXT: value.Last = Line;
// CHECK-NEXT: });
// CHECK-NEXT: }

// `if (It == m.end()) return ...;`: the statements that follow, up to the
// last use of the iterator (or of a reference to its element), are the
// callback; update() returning false takes the early return.
bool append(int K, const std::string &Line) {
  auto It = Feeds.find(K);
  if (It == Feeds.end())
    return false;
  It->second.push_back(Line);
  auto &Lines = It->second;
  if (Lines.size() > 100)
    Lines.erase(Lines.begin());
  return true;
}
// CHECK: bool append(int K, const std::string &Line) {
// CHECK-NEXT: if (!Feeds.update(K, [&](auto &value) {
// CHECK-NEXT: value.push_back(Line);
// CHECK-NEXT: auto &Lines = value;
// CHECK-NEXT: if (Lines.size() > 100)
// CHECK-NEXT: Lines.erase(Lines.begin());
// CHECK-NEXT: }))
// CHECK-NEXT: return false;
// CHECK-NEXT: return true;
// CHECK-NEXT: }

// The statements after the last use of the iterator stay in the branch, and
// an else runs when the key is missing.
int bump(int K) {
  auto It = Counts.find(K);
  if (It != Counts.end()) {
    It->second++;
    return 1;
  }
  return 0;
}
// CHECK: int bump(int K) {
// CHECK-NEXT: if (Counts.update(K, [&](auto &value) { value++; })) {
// CHECK-NEXT: return 1;
// CHECK-NEXT: }
// CHECK-NEXT: return 0;
// CHECK-NEXT: }

int touch(int K) {
  auto It = Stats.find(K);
  if (It != Stats.end())
    It->second.Hits = 0;
  else
    return -1;
  return 0;
}
// CHECK: int touch(int K) {
// CHECK-NEXT: if (!Stats.update(K, [&](auto &value) { value.Hits = 0; }))
// CHECK-NEXT: return -1;
// CHECK-NEXT: return 0;
// CHECK-NEXT: }

int run() {
  std::thread A([] {
    for (int I = 0; I < 10; ++I) {
      Feeds[I].push_back("x");
      Counts[I] = I;
      Stats[I].Hits = I;
    }
  });
  throughAt(1, "a", true);
  throughIterator(2, "b");
  int N = append(3, "c") + bump(4) + touch(5);
  A.join();
  return N;
}
