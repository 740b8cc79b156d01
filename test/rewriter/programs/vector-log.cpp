// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged non-map container
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A std::vector that is not a map: a writer thread appends events to a
// local vector captured by reference while a reader thread polls its last
// element (`if (!Events.empty()) Last = Events.back();`, one callback under
// the read lock, so the test and the read stay one step) and its size.
// After the joins it is copied and read in a loop.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main() {
  std::vector<std::string> Events;
  std::thread Writer([&] {
    for (int I = 0; I < 4000; ++I)
      Events.push_back("event" + std::to_string(I));
  });
  SERIAL_JOIN(Writer);
  std::size_t Polled = 0;
  std::thread Reader([&] {
    for (int I = 0; I < 4000; ++I) {
      std::string Last;
      if (!Events.empty())
        Last = Events.back();
      Polled += Last.size() + Events.size() % 2;
    }
  });
  SERIAL_JOIN(Reader);
  if (Writer.joinable())
    Writer.join();
  if (Reader.joinable())
    Reader.join();
  std::vector<std::string> Copy = Events;
  std::size_t Chars = 0;
  for (const std::string &Event : Events)
    Chars += Event.size();
  // Polled depends on the interleaving: not printed.
  std::printf("events=%zu chars=%zu last=%s\n", Copy.size(), Chars,
              Copy.back().c_str());
  return Polled > 0 ? 0 : 1;
}
