// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A pool of four threads storing results into one map.
#include "serial.h"
#include <cstdio>
#include <thread>
#include <unordered_map>
#include <vector>

int main() {
  std::unordered_map<int, long> Squares;
  std::vector<std::thread> Pool;
  for (int T = 0; T < 4; ++T) {
    Pool.emplace_back([&Squares, T] {
      for (int I = T; I < 4000; I += 4)
        Squares[I] = static_cast<long>(I) * I;
    });
    SERIAL_JOIN(Pool.back());
  }
  for (std::thread &Worker : Pool)
    if (Worker.joinable())
      Worker.join();
  long Sum = 0;
  for (int I = 0; I < 4000; ++I)
    Sum += Squares.at(I);
  std::printf("entries=%zu sum=%ld\n", Squares.size(), Sum);
  return 0;
}
