// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// The program of issue 19: a writer and a reader thread share a local map
// captured by reference; after the join, elements are read through at() on
// the non-const map (size(), and front().c_str() inside one printf).
#include "serial.h"
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

int main() {
  std::unordered_map<std::int64_t, std::vector<std::string>> History;
  std::thread Writer([&] {
    for (std::int64_t I = 0; I < 3000; ++I)
      History[I % 16].push_back("event" + std::to_string(I));
  });
  SERIAL_JOIN(Writer);
  std::size_t Seen = 0;
  std::thread Reader([&] {
    for (int I = 0; I < 3000; ++I)
      Seen += History.count(I % 16);
  });
  SERIAL_JOIN(Reader);
  if (Writer.joinable())
    Writer.join();
  if (Reader.joinable())
    Reader.join();
  std::size_t Total = 0;
  for (std::int64_t I = 0; I < 16; ++I)
    Total += History.at(I).size();
  // Seen depends on the interleaving: not printed.
  std::printf("total=%zu first=%s\n", Total, History.at(0).front().c_str());
  return Seen <= 3000 ? 0 : 1;
}
