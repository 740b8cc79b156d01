// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A session table pruned by an erase loop (`It = m.erase(It)`, the shape of
// erase_if) in a janitor thread while the main thread adds sessions.
#include "serial.h"
#include <cstdio>
#include <thread>
#include <unordered_map>

std::unordered_map<int, int> Sessions;

void prune() {
  for (int Round = 0; Round < 200; ++Round)
    for (auto It = Sessions.begin(); It != Sessions.end();) {
      if (It->second % 3 == 0 && It->first > 10)
        It = Sessions.erase(It);
      else
        ++It;
    }
}

int main() {
  std::thread Janitor(prune);
  SERIAL_JOIN(Janitor);
  for (int I = 0; I < 3000; ++I)
    Sessions[I % 40] += 1;
  if (Janitor.joinable())
    Janitor.join();
  prune();
  long Sum = 0;
  for (int K = 0; K < 40; ++K)
    Sum += Sessions.count(K) ? K : 0;
  std::printf("left=%zu sum=%ld\n", Sessions.size(), Sum);
  return 0;
}
