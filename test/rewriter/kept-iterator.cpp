// `auto it = m.find(k)` whose uses only compare it with m.end() and read
// it->second, with no other use of the map in between, becomes a
// std::optional from get(k); it->first becomes `k` itself when `k` is a
// literal or a local variable that nothing modifies, and a key equal to it
// is identical to it. Anything else keeps the map from being rewritten.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp

// SUMMARY: rewrote 2 of 5 flagged maps, skipped 3:
// SUMMARY-DAG: Blocked ({{.*}}): the map is used while an iterator from find() is kept [{{.*}}.cpp:[[#@LINE+54]]:
// SUMMARY-DAG: Moved ({{.*}}): an iterator from find() is kept [{{.*}}.cpp:[[#@LINE+59]]:
// SUMMARY-DAG: Ratios ({{.*}}): an iterator from find() is kept [{{.*}}.cpp:[[#@LINE+65]]:

#include <string>
#include <thread>
#include <unordered_map>

std::unordered_map<int, std::string> Names;
std::unordered_map<std::string, std::size_t> Lengths;
std::unordered_map<int, std::string> Blocked;
std::unordered_map<int, std::string> Moved;
std::unordered_map<double, int> Ratios;

std::size_t length(int Key) {
  auto It = Names.find(Key);
  // CHECK: auto It = Names.get(Key);
  if (It != Names.end())
    // CHECK: if (It.has_value())
    return It->second.size();
    // CHECK: return (*It).size();
  return 0;
}

std::string nameOr(int Key, const std::string &Default) {
  const auto Found = Names.find(Key);
  // CHECK: const auto Found = Names.get(Key);
  return Found == Names.end() ? Default : Found->second;
  // CHECK: return !Found.has_value() ? Default : (*Found);
}

// it->first: the key looked up, a parameter or a literal.
int keyOf(int Key) {
  auto It = Names.find(Key);
  return It == Names.end() ? -1 : It->first;
  // CHECK: return !It.has_value() ? -1 : Key;
}

int negative() {
  auto It = Names.find(-3);
  return It != Names.end() ? It->first : 0;
  // CHECK: return It.has_value() ? (-3) : 0;
}

std::size_t measured(const std::string &Prefix) {
  std::string Word = Prefix + "s";
  auto It = Lengths.find(Word);
  // CHECK: auto It = Lengths.get(Word);
  return It != Lengths.end() ? It->first.size() + It->second : 0;
  // CHECK: return It.has_value() ? Word.size() + (*It) : 0;
}

std::size_t blocked(int Key) {
  auto It = Blocked.find(Key);
  Blocked[Key + 1] = "x"; // may rehash: the iterator would be a different read
  return It == Blocked.end() ? 0 : It->second.size();
}

// The key changes after the lookup: it->first is not `Key` any more.
int moved(int Key) {
  auto It = Moved.find(Key);
  ++Key;
  return It == Moved.end() ? 0 : It->first;
}

// -0.0 == 0.0: the key found need not be the one looked up.
double ratio(double Key) {
  auto It = Ratios.find(Key);
  return It == Ratios.end() ? 0 : It->first;
}

void run() {
  std::thread T([] {
    for (int I = 0; I < 10; ++I) {
      Names[I] = "n";
      Lengths[std::to_string(I)] = 1;
      Blocked[I] = "b";
      Moved[I] = "m";
      Ratios[I] = I;
    }
  });
  std::size_t N = length(1) + nameOr(2, "none").size() + blocked(3);
  N += static_cast<std::size_t>(keyOf(4) + negative() + moved(5)) +
       measured("w") + static_cast<std::size_t>(ratio(0.5));
  T.join();
  (void)N;
}
