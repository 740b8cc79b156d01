// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A find() iterator kept over several lines: `auto It = m.find(K); if (It
// == m.end() || It->second.empty()) return "none"; return
// It->second.front();` on a non-const map, while a writer appends.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<int, std::vector<std::string>> Feeds;

std::string newest(int User) {
  auto It = Feeds.find(User);
  if (It == Feeds.end() || It->second.empty())
    return "none";
  return It->second.front();
}

int main() {
  std::thread Writer([] {
    for (int I = 0; I < 3000; ++I)
      Feeds[I % 5].push_back("post" + std::to_string(I));
  });
  SERIAL_JOIN(Writer);
  std::size_t Chars = 0;
  for (int I = 0; I < 3000; ++I)
    Chars += newest(I % 7).size();
  if (Writer.joinable())
    Writer.join();
  std::printf("u0=%s u6=%s chars>0=%d\n", newest(0).c_str(),
              newest(6).c_str(), Chars > 0);
  return 0;
}
