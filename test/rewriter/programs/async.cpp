// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// std::async producing into a map that the caller polls.
#include "serial.h"
#include <cstdio>
#include <future>
#include <unordered_map>

int main() {
  std::unordered_map<int, int> Results;
  auto Done = std::async(std::launch::async, [&Results] {
    for (int I = 0; I < 5000; ++I)
      Results.insert_or_assign(I % 300, I);
  });
  SERIAL_WAIT(Done);
  std::size_t Polls = 0;
  for (int I = 0; I < 3000; ++I)
    Polls += Results.empty() ? 0 : 1;
  Done.get();
  long Sum = 0;
  for (int I = 0; I < 300; ++I)
    Sum += Results.at(I);
  std::printf("entries=%zu sum=%ld\n", Results.size(), Sum);
  return Polls >= 0 ? 0 : 1;
}
