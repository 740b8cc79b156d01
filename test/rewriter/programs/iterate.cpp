// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A reader thread iterates the map while the main thread erases and
// inserts.
#include "serial.h"
#include <cstdio>
#include <thread>
#include <unordered_map>

int main() {
  std::unordered_map<int, int> Live;
  for (int I = 0; I < 100; ++I)
    Live.emplace(I, I);
  std::thread Reader([&Live] {
    long Sum = 0;
    for (int Round = 0; Round < 200; ++Round)
      for (const auto &[K, V] : Live)
        Sum += K + V;
    std::printf("reader done\n");
  });
  SERIAL_JOIN(Reader);
  for (int I = 0; I < 2000; ++I) {
    Live.erase(I % 100);
    Live.emplace(I % 100, I);
  }
  if (Reader.joinable())
    Reader.join();
  long Total = 0;
  for (const auto &[K, V] : Live)
    Total += V;
  std::printf("entries=%zu total=%ld\n", Live.size(), Total);
  return 0;
}
