// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A lookup cache filled by a loader thread and probed by the main thread.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

std::unordered_map<int, std::string> Cache;

void load() {
  for (int I = 0; I < 20000; ++I)
    if (Cache.find(I % 500) == Cache.end())
      Cache.emplace(I % 500, std::to_string(I % 500));
}

int main() {
  std::thread Loader(load);
  SERIAL_JOIN(Loader);
  int Hits = 0;
  for (int I = 0; I < 50000; ++I)
    if (Cache.count(I % 700))
      ++Hits;
  if (Loader.joinable())
    Loader.join();
  std::printf("entries=%zu last=%s\n", Cache.size(), Cache.at(499).c_str());
  return Hits >= 0 ? 0 : 1;
}
