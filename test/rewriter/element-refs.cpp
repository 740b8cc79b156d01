// A local reference bound to m.at(k), and the two-branch form of a kept
// find() iterator: `auto &v = m.at(k);` followed by statements using v
// becomes one update() callback that keeps at()'s throw for a missing key,
// and `if (it == m.end()) A else B` (B writing it->second) becomes `if
// (!m.update(k, B)) A`, the lookup and B's writes one atomic step.
// RUN: sed 's#// CHECK.*#//#; s#// SUMMARY.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.once.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 -I%runtime_include
// RUN: diff %t.cpp %t.once.cpp

// SUMMARY: rewrote 4 of 4 flagged maps

#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Account {
  long Balance = 0;
  std::vector<long> History;
};

std::unordered_map<int, Account> Accounts;
std::unordered_map<int, std::vector<std::string>> Feeds;
std::unordered_map<int, int> Counts;
std::unordered_map<std::string, long> Totals;

// The statements from the declaration to the last use of the reference are
// the callback; at() would throw before any of them runs, update() runs
// none of them for a missing key.
void deposit(int Id, long Amount) {
  auto &A = Accounts.at(Id);
  A.Balance += Amount;
  A.History.push_back(Amount);
}
// CHECK: void deposit(int Id, long Amount) {
// CHECK-NEXT: if (!Accounts.update(Id, [&](auto &A) {
// CHECK-NEXT: A.Balance += Amount;
// CHECK-NEXT: A.History.push_back(Amount);
// CHECK-NEXT: }))
// CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
// CHECK-NEXT: }

// A final `return E;` returns what the callback stored, after the lock is
// released; the statements after the last use stay where they are.
std::size_t append(int K, const std::string &Line) {
  int Before = 0;
  std::vector<std::string> &Lines = Feeds.at(K);
  Lines.push_back(Line);
  if (Lines.size() > 8)
    Lines.erase(Lines.begin());
  return Lines.size() + static_cast<std::size_t>(Before);
}
// CHECK: std::size_t append(int K, const std::string &Line) {
// CHECK-NEXT: int Before = 0;
// CHECK-NEXT: std::optional<std::size_t> concguard_result;
// CHECK-NEXT: if (!Feeds.update(K, [&](auto &Lines) {
// CHECK-NEXT: Lines.push_back(Line);
// CHECK-NEXT: if (Lines.size() > 8)
// CHECK-NEXT: Lines.erase(Lines.begin());
// CHECK-NEXT: concguard_result.emplace(Lines.size() +
// CHECK-NEXT: static_cast<std::size_t>(Before));
// CHECK-NEXT: }))
// CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
// CHECK-NEXT: return std::move(*concguard_result);
// CHECK-NEXT: }

void trim(int K) {
  int Kept = 0;
  auto &Lines = Feeds.at(K);
  Lines.resize(1);
  Kept = static_cast<int>(Lines.size());
  Counts[K] = Kept;
}
// CHECK: void trim(int K) {
// CHECK-NEXT: int Kept = 0;
// CHECK-NEXT: if (!Feeds.update(K, [&](auto &Lines) {
// CHECK-NEXT: Lines.resize(1);
// CHECK-NEXT: Kept = static_cast<int>(Lines.size());
// CHECK-NEXT: }))
// CHECK-NEXT: throw std::out_of_range("concguard::sharded_map::at: key not found");
// CHECK-NEXT: Counts.insert_or_assign(K, Kept);
// CHECK-NEXT: }

// A const reference only read keeps the copy the runtime's at() returns.
long balance(int Id) {
  const auto &A = Accounts.at(Id);
  return A.Balance + static_cast<long>(A.History.size());
}
// CHECK: long balance(int Id) {
// CHECK-NEXT: const auto &A = Accounts.at(Id);
// CHECK-NEXT: return A.Balance + static_cast<long>(A.History.size());
// CHECK-NEXT: }

// `if (It == m.end()) A else B`: A runs when update() finds no key.
int hit(int K) {
  int Missing = 0;
  auto It = Counts.find(K);
  if (It == Counts.end()) {
    Missing = 1;
  } else {
    It->second += 2;
  }
  return Missing;
}
// CHECK: int hit(int K) {
// CHECK-NEXT: int Missing = 0;
// CHECK-NEXT: if (!Counts.update(K, [&](auto &value) { value += 2; })) {
// CHECK-NEXT: Missing = 1;
// CHECK-NEXT: }
// CHECK-NEXT: return Missing;
// CHECK-NEXT: }

// Statements of B after the last use of the iterator stay in the else; an
// A that inserts is a second operation, after update() found no key.
long add(const std::string &Name, long N) {
  long Seen = 0;
  if (auto It = Totals.find(Name); It == Totals.end())
    Totals.emplace(Name, N);
  else {
    It->second += N;
    Seen = 1;
  }
  return Seen;
}
// CHECK: long add(const std::string &Name, long N) {
// CHECK-NEXT: long Seen = 0;
// CHECK-NEXT: if (!Totals.update(Name, [&](auto &value) { value += N; }))
// CHECK-NEXT: Totals.emplace(Name, N);
// CHECK-NEXT: else {
// CHECK-NEXT: Seen = 1;
// CHECK-NEXT: }
// CHECK-NEXT: return Seen;
// CHECK-NEXT: }

// The `!=` spelling with the branches swapped keeps its else.
int drop(int K) {
  auto It = Counts.find(K);
  if (It != Counts.end())
    It->second = 0;
  else
    return -1;
  return 0;
}
// CHECK: int drop(int K) {
// CHECK-NEXT: if (!Counts.update(K, [&](auto &value) { value = 0; }))
// CHECK-NEXT: return -1;
// CHECK-NEXT: return 0;
// CHECK-NEXT: }

int run() {
  std::thread W([] {
    for (int I = 0; I < 10; ++I) {
      Accounts[I].Balance = I;
      Feeds[I].push_back("x");
      Counts[I] = I;
      Totals["t" + std::to_string(I)] = I;
    }
  });
  deposit(1, 5);
  trim(2);
  long N = balance(1) + hit(3) + add("t1", 4) + drop(4);
  N += static_cast<long>(append(2, "y"));
  W.join();
  return static_cast<int>(N);
}
