// A for_each callback runs under a shard's read lock, so a loop becomes
// for_each only when no call in its body can reach the map: the functions
// whose definitions are seen are followed (MaxCallDepth calls deep, 3 by
// default), looking for a use of the map, or of a map or parameter of its
// group that may be the same object. A call that cannot be followed (no
// definition, virtual, through a pointer or a std::function, deeper than
// the limit) keeps the loop over a copy, except a call of a function of a
// system header that is given nothing that could call back.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: cp %t.cpp %t.depth.cpp
// RUN: %concguard_rewrite %t.depth.cpp --policy=sharded --config='{CheckOptions: {concguard-unsynchronized-container.MaxCallDepth: 1}}' -- -std=c++20 2>/dev/null | FileCheck --check-prefix=DEPTH1 %s
// RUN: %concguard_rewrite %t.cpp --in-place --policy=sharded -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// RUN: cp %t.cpp %t.again.cpp
// RUN: %concguard_rewrite %t.again.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=AGAIN %s
// RUN: diff %t.cpp %t.again.cpp

// SUMMARY: rewrote 4 of 4 flagged maps
// AGAIN: rewrote 0 of 0 flagged maps

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<std::string, int> Index;
using Counts = std::unordered_map<std::string, int>;
Counts Hits;
Counts Misses;

// Functions that do not reach Index.
int weight(int V) { return V * 2; }
int fib(int N) { return N < 2 ? N : fib(N - 1) + fib(N - 2); }
bool isOdd(int N);
bool isEven(int N) { return N == 0 || isOdd(N - 1); }
bool isOdd(int N) { return N != 0 && isEven(N - 1); }
int level3(int V) { return V + 3; }
int level2(int V) { return level3(V) + 2; }
int level1(int V) { return level2(V) + 1; }
struct Scale {
  int Factor = 2;
  int operator()(int V) const { return V * Factor; }
};
struct Tally {
  int N = 0;
  ~Tally() { std::printf("%d\n", N); }
};

// Functions that reach it.
int inner(int V) { return V + static_cast<int>(Index.count("x")); }
int outer(int V) { return inner(V) * 2; }
int external(int V); // declared, defined nowhere in this file
int level4(int V) { return V + 4; }
int deep(int V) { return level1(level4(V)); }
struct Guard {
  ~Guard() { Index.erase("guard"); }
};
struct Shape {
  virtual ~Shape() = default;
  virtual int area() const { return 1; }
};
struct Square final : Shape {
  int area() const override { return 4; }
};
void record(Counts &Table, const std::string &Key) { Table[Key] += 1; }

int loops(const Shape &S, int (*Hook)(int),
          const std::function<int(int)> &Callback) {
  int Found = 0;
  // for_each: what the body calls never reaches Index.
  for (const auto &[Key, Value] : Index)
    Found += weight(Value);
  // CHECK: Index.for_each(
  // CHECK-NEXT: [&](const auto &Key, const auto &Value) { Found += weight(Value); });
  for (const auto &[Key, Value] : Index)
    std::printf("%s=%d\n", Key.c_str(), Value);
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) {
  // CHECK-NEXT: std::printf("%s=%d\n", Key.c_str(), Value);
  // CHECK-NEXT: });
  for (const auto &[Key, Value] : Index)
    Found += fib(Value % 10) + (isEven(Value) ? 1 : 0);
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) {
  // CHECK-NEXT: Found += fib(Value % 10) + (isEven(Value) ? 1 : 0);
  for (const auto &[Key, Value] : Index)
    Found += level1(Value);
  // CHECK: Index.for_each(
  // CHECK-NEXT: [&](const auto &Key, const auto &Value) { Found += level1(Value); });
  for (const auto &[Key, Value] : Index) {
    std::vector<int> Local = {Value, 1};
    std::for_each(Local.begin(), Local.end(),
                  [&](const auto &X) { Found += X; });
    Found += Scale{}(Value) + static_cast<int>(std::to_string(Value).size());
  }
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) {
  // CHECK-NEXT: std::vector<int> Local = {Value, 1};
  // Destructors and virtual calls whose target is known are followed too.
  Square Known;
  for (const auto &[Key, Value] : Index) {
    Tally T{Value};
    Found += T.N + Known.area();
  }
  // CHECK: Index.for_each([&](const auto &Key, const auto &Value) {
  // CHECK-NEXT: Tally T{Value};

  // Over a copy.
  for (const auto &[Key, Value] : Index)
    Found += outer(Value);
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += outer(Value);
  for (const auto &[Key, Value] : Index)
    Found += external(Value);
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += external(Value);
  for (const auto &[Key, Value] : Index)
    Found += deep(Value); // deep -> level1 -> level2 -> level3: too deep
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += deep(Value);
  for (const auto &[Key, Value] : Index) {
    Guard G; // its destructor erases from Index
    Found += Value;
  }
  // CHECK: for (const auto &[Key, Value] : Index.snapshot()) {
  // CHECK-NEXT: Guard G;
  for (const auto &[Key, Value] : Index)
    Found += S.area(); // virtual
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += S.area();
  for (const auto &[Key, Value] : Index)
    Found += Hook(Value);
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += Hook(Value);
  for (const auto &[Key, Value] : Index)
    Found += Callback(Value);
  // CHECK: for (const auto &[Key, Value] : Index.snapshot())
  // CHECK-NEXT: Found += Callback(Value);
  for (const auto &[Key, Value] : Index) {
    std::vector<int> Local = {Value};
    std::transform(Local.begin(), Local.end(), Local.begin(), outer);
    Found += Local[0];
  }
  // CHECK: for (const auto &[Key, Value] : Index.snapshot()) {
  // CHECK-NEXT: std::vector<int> Local = {Value};
  // record()'s parameter may be Hits: Misses is passed to it too.
  for (const auto &[Key, Value] : Hits)
    record(Misses, Key);
  // CHECK: for (const auto &[Key, Value] : Hits.snapshot())
  // CHECK-NEXT: record(Misses, Key);
  return Found;
}

// A member map: a member function reads it through `this`.
class Store {
public:
  void start() { Worker = std::thread([this] { fill(); }); }
  void stop() { Worker.join(); }
  int total() const {
    int Sum = 0;
    for (const auto &[Key, Value] : Values)
      Sum += Value;
    // CHECK: Values.for_each([&](const auto &Key, const auto &Value) { Sum += Value; });
    return Sum;
  }
  int report() const {
    int Sum = 0;
    for (const auto &[Key, Value] : Values)
      Sum += Value * total();
    // CHECK: for (const auto &[Key, Value] : Values.snapshot())
    // CHECK-NEXT: Sum += Value * total();
    for (const auto &[Key, Value] : Values)
      Sum += weight(Value);
    // CHECK: Values.for_each(
    // CHECK-NEXT: [&](const auto &Key, const auto &Value) { Sum += weight(Value); });
    return Sum;
  }

private:
  void fill() {
    for (int I = 0; I < 10; ++I)
      Values[std::to_string(I)] = I;
  }
  std::unordered_map<std::string, int> Values;
  std::thread Worker;
};

int run(const Shape &S, const std::function<int(int)> &Callback) {
  std::thread T([] {
    for (int I = 0; I < 10; ++I) {
      Index[std::to_string(I)] = I;
      record(Hits, std::to_string(I));
      record(Misses, std::to_string(I));
    }
  });
  int N = loops(S, &weight, Callback);
  T.join();
  Store Shop;
  Shop.start();
  N += Shop.report();
  Shop.stop();
  return N;
}

// With MaxCallDepth 1, only the functions the body calls are followed.
// DEPTH1: +  Index.for_each(
// DEPTH1-NEXT: +      [&](const auto &Key, const auto &Value) { Found += weight(Value); });
// DEPTH1: +  for (const auto &[Key, Value] : Index.snapshot())
// DEPTH1-NEXT: Found += fib(Value % 10) + (isEven(Value) ? 1 : 0);
// DEPTH1: +  for (const auto &[Key, Value] : Index.snapshot())
// DEPTH1-NEXT: Found += level1(Value);
