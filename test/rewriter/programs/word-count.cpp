// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Two threads count words into an ordered map (rewritten to a snapshot map
// over a std::map, which keeps the key order of the final printout).
#include "serial.h"
#include <cstdio>
#include <map>
#include <string>
#include <thread>

static const char *Words[] = {"alpha", "beta", "gamma", "delta", "alpha"};

int main() {
  std::map<std::string, int> Counts;
  auto Count = [&](int Offset) {
    for (int I = 0; I < 2000; ++I)
      Counts[Words[(I + Offset) % 5]] += 1;
  };
  std::thread A(Count, 0);
  SERIAL_JOIN(A);
  std::thread B(Count, 1);
  SERIAL_JOIN(B);
  if (A.joinable())
    A.join();
  if (B.joinable())
    B.join();
  for (const auto &[Word, N] : Counts)
    std::printf("%s=%d\n", Word.c_str(), N);
  return 0;
}
