// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Helper functions take the map by reference: a worker thread records
// events through one while the main thread reads through the others.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

using Tally = std::unordered_map<std::string, int>;

void record(Tally &Counts, const std::string &Event) { Counts[Event] += 1; }

int countOf(const Tally &Counts, const std::string &Event) {
  auto It = Counts.find(Event);
  return It == Counts.end() ? 0 : It->second;
}

int total(const Tally &Counts) {
  int Sum = 0;
  for (const auto &[Event, N] : Counts)
    Sum += N;
  return Sum;
}

int main() {
  Tally Counts;
  std::thread Worker([&Counts] {
    for (int I = 0; I < 3000; ++I)
      record(Counts, "event" + std::to_string(I % 20));
  });
  SERIAL_JOIN(Worker);
  long Polled = 0;
  for (int I = 0; I < 500; ++I)
    Polled += countOf(Counts, "event3") + total(Counts);
  if (Worker.joinable())
    Worker.join();
  std::printf("kinds=%zu total=%d event3=%d\n", Counts.size(), total(Counts),
              countOf(Counts, "event3"));
  return Polled >= 0 ? 0 : 1;
}
