// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// The seed: one thread appends to a map of vectors, another reads it.
#include "serial.h"
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

int main() {
  std::unordered_map<std::int64_t, std::vector<std::string>> Sessions;
  std::thread Writer([&] {
    for (int I = 0; I < 20000; ++I) {
      Sessions[I % 4096].push_back("event");
      if (I % 3 == 0)
        Sessions.erase((I + 7) % 4096);
    }
  });
  SERIAL_JOIN(Writer);
  std::size_t Seen = 0;
  for (int Round = 0; Round < 50; ++Round)
    for (const auto &[User, List] : Sessions)
      Seen += Sessions.count(User) + List.size();
  if (Writer.joinable())
    Writer.join();
  std::size_t Events = 0;
  for (const auto &[User, List] : Sessions)
    Events += List.size();
  std::printf("users=%zu events=%zu\n", Sessions.size(), Events);
  return Seen > 0 ? 0 : 0;
}
