// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A local reference to an element that never leaves the function
// (`auto &V = m[k]; V.push_back(x); return V.size();`), appended to by a
// worker while the main thread reads through a const reference.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<int, std::vector<std::string>> Logs;

std::size_t append(int Key, const std::string &Line) {
  auto &Lines = Logs[Key];
  if (Lines.size() > 100)
    Lines.erase(Lines.begin());
  Lines.push_back(Line);
  return Lines.size();
}

std::size_t peek(int Key) {
  const auto &Lines = Logs[Key];
  return Lines.size();
}

int main() {
  std::size_t Longest = 0;
  std::thread Worker([&] {
    for (int I = 0; I < 3000; ++I)
      Longest = std::max(Longest, append(I % 6, "line" + std::to_string(I)));
  });
  SERIAL_JOIN(Worker);
  std::size_t Peeked = 0;
  for (int I = 0; I < 3000; ++I)
    Peeked += peek(I % 6);
  if (Worker.joinable())
    Worker.join();
  // Peeked depends on the interleaving: not printed.
  std::printf("longest=%zu k0=%zu k5=%zu\n", Longest, peek(0), peek(5));
  return Peeked <= 3000 * 101 ? 0 : 1;
}
