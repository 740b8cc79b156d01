// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 2 of 2 flagged maps
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Sessions written through a find() iterator kept over a few lines, the
// way services look a session up and then change it: `if (It == m.end())
// return false; It->second.push_back(x);` and `if (auto It = m.find(k); It
// != m.end()) It->second += n;` become one update() callback each, while
// another thread opens sessions.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<std::string, std::vector<int>> Sessions;
std::unordered_map<std::string, long> Bytes;

bool appendEvent(const std::string &User, int Event) {
  auto It = Sessions.find(User);
  if (It == Sessions.end())
    return false;
  It->second.push_back(Event);
  if (It->second.size() > 64)
    It->second.erase(It->second.begin());
  return true;
}

void addBytes(const std::string &User, long N) {
  if (auto It = Bytes.find(User); It != Bytes.end())
    It->second += N;
}

void traffic(int Offset) {
  for (int I = 0; I < 3000; ++I) {
    std::string User = "user" + std::to_string((I + Offset) % 4);
    if (appendEvent(User, I))
      addBytes(User, I % 7);
  }
}

int main() {
  for (int U = 0; U < 4; ++U) {
    Sessions["user" + std::to_string(U)].push_back(-1);
    Bytes["user" + std::to_string(U)] = 0;
  }
  std::thread Opener([] {
    for (int U = 10; U < 400; ++U) {
      Sessions["user" + std::to_string(U)].push_back(U);
      Bytes["user" + std::to_string(U)] = U;
    }
  });
  SERIAL_JOIN(Opener);
  std::thread Worker([] { traffic(1); });
  SERIAL_JOIN(Worker);
  traffic(2);
  int Ghost = appendEvent("nobody", 1) ? 1 : 0;
  if (Opener.joinable())
    Opener.join();
  if (Worker.joinable())
    Worker.join();
  long Total = 0;
  std::size_t Kept = 0;
  for (int U = 0; U < 4; ++U) {
    Total += Bytes.at("user" + std::to_string(U));
    Kept += Sessions.at("user" + std::to_string(U)).size();
  }
  std::printf("bytes=%ld kept=%zu ghost=%d sessions=%zu\n", Total, Kept, Ghost,
              Sessions.size());
  return 0;
}
