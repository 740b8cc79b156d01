// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 2 of 2 flagged maps
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Check-then-act: `if (!m.count(k)) m[k] = v;` keeps the first value seen
// for a key, and `m[k] = m[k] + 1` counts; two threads do both at once.
// The rewrite makes each pair one atomic operation (insert, upsert), so the
// counts are exact.
#include "serial.h"
#include <cstdio>
#include <thread>
#include <unordered_map>

std::unordered_map<int, int> FirstSeen;
std::unordered_map<int, int> Counts;

void observe(int Offset) {
  for (int I = 0; I < 3000; ++I) {
    int Key = (I + Offset) % 50;
    if (!FirstSeen.count(Key))
      FirstSeen[Key] = Key * 2;
    Counts[Key] = Counts[Key] + 1;
  }
}

int main() {
  std::thread A(observe, 0);
  SERIAL_JOIN(A);
  std::thread B(observe, 7);
  SERIAL_JOIN(B);
  if (A.joinable())
    A.join();
  if (B.joinable())
    B.join();
  long Total = 0, Firsts = 0;
  for (int K = 0; K < 50; ++K) {
    Total += Counts[K];
    Firsts += FirstSeen[K];
  }
  std::printf("total=%ld firsts=%ld\n", Total, Firsts);
  return 0;
}
