// `auto it = m.find(k)` whose uses only compare it with m.end() and read
// it->second, with no other use of the map in between, becomes a
// std::optional from get(k); anything else keeps the map from being
// rewritten.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp

// SUMMARY: rewrote 1 of 2 flagged maps, skipped 1:
// SUMMARY: Blocked ({{.*}}): the map is used while an iterator from find() is kept [{{.*}}.cpp:[[#@LINE+28]]:

#include <string>
#include <thread>
#include <unordered_map>

std::unordered_map<int, std::string> Names;
std::unordered_map<int, std::string> Blocked;

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

std::size_t blocked(int Key) {
  auto It = Blocked.find(Key);
  Blocked[Key + 1] = "x"; // may rehash: the iterator would be a different read
  return It == Blocked.end() ? 0 : It->second.size();
}

void run() {
  std::thread T([] {
    for (int I = 0; I < 10; ++I) {
      Names[I] = "n";
      Blocked[I] = "b";
    }
  });
  std::size_t N = length(1) + nameOr(2, "none").size() + blocked(3);
  T.join();
  (void)N;
}
