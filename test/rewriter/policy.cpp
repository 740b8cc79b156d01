// --policy=auto: a std::map keeps its key order in a snapshot_map over a
// std::map; a map written rarely and never in a loop is read-mostly and
// becomes a snapshot_map; a map written in a loop becomes a sharded_map.
// RUN: sed 's#// CHECK.*#//#' %s > %t.cpp
// RUN: %concguard_rewrite %t.cpp --in-place -- -std=c++20 2>&1 | FileCheck --check-prefix=SUMMARY %s
// RUN: FileCheck --input-file=%t.cpp %s
// RUN: %clangxx -std=c++20 -fsyntax-only -I%runtime_include %t.cpp
// --only limits the targets.
// RUN: sed 's#// CHECK.*#//#' %s > %t.only.cpp
// RUN: %concguard_rewrite %t.only.cpp --in-place --only=Hot -- -std=c++20 2>&1 | FileCheck --check-prefix=ONLY %s
// RUN: FileCheck --input-file=%t.only.cpp --check-prefix=ONLYFILE %s

// SUMMARY: rewrote 3 of 3 flagged maps
// SUMMARY-DAG: rewrote Config ({{.*}}) -> concguard::snapshot_map<int, std::string>
// SUMMARY-DAG: rewrote Hot ({{.*}}) -> concguard::sharded_map<int, int>
// SUMMARY-DAG: rewrote Ordered ({{.*}}) -> concguard::snapshot_map<int, int, std::map<int, int>>
// ONLY: rewrote 1 of 1 flagged map
// ONLYFILE: std::unordered_map<int, std::string> Config;
// ONLYFILE: concguard::sharded_map<int, int> Hot;

#include <map>
#include <string>
#include <thread>
#include <unordered_map>

// CHECK: #include <concguard/sharded_map.hpp>
// CHECK: #include <concguard/snapshot_map.hpp>
// CHECK: concguard::snapshot_map<int, std::string> Config;
std::unordered_map<int, std::string> Config;
// CHECK: concguard::sharded_map<int, int> Hot;
std::unordered_map<int, int> Hot;
// CHECK: concguard::snapshot_map<int, int, std::map<int, int>> Ordered;
std::map<int, int> Ordered;

void refresh() { Config[1] = "fresh"; }

int readers() {
  int N = 0;
  N += static_cast<int>(Config.count(1));
  N += static_cast<int>(Config.size());
  N += static_cast<int>(Config.at(1).size());
  N += static_cast<int>(Hot.count(2));
  for (const auto &[K, V] : Ordered)
    // CHECK: Ordered.for_each([&](const auto &K, const auto &V)
    N += K + V;
  // CHECK: { N += K + V; });
  for (const auto &Entry : Ordered) {
    // CHECK: for (const auto &Entry : *Ordered.snapshot()) {
    if (Entry.first > 5)
      break;
    N += Entry.second;
  }
  return N;
}

void run() {
  std::thread A(refresh);
  std::thread B([] {
    for (int I = 0; I < 10; ++I) {
      Hot[I] = I;
      Ordered[I] = I;
    }
  });
  int N = readers();
  A.join();
  B.join();
  (void)N;
}
