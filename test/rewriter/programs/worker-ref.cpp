// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A local map handed to a worker thread with std::ref, as services do:
// `std::thread T(fill, std::ref(Index))`; the main thread reads it
// meanwhile.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

void fill(std::unordered_map<std::string, int> &Index) {
  for (int I = 0; I < 3000; ++I)
    Index["word" + std::to_string(I % 64)] += 1;
}

int main() {
  std::unordered_map<std::string, int> Index;
  std::thread Filler(fill, std::ref(Index));
  SERIAL_JOIN(Filler);
  int Found = 0;
  for (int I = 0; I < 3000; ++I)
    Found += Index.count("word" + std::to_string(I % 100)) ? 1 : 0;
  if (Filler.joinable())
    Filler.join();
  std::printf("words=%zu word7=%d found>=0=%d\n", Index.size(),
              Index.at("word7"), Found >= 0);
  return 0;
}
