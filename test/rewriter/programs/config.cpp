// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A global configuration refreshed by a thread while readers look keys up.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

std::unordered_map<std::string, std::string> Config;

void refresh() {
  for (int Round = 0; Round < 300; ++Round)
    for (int K = 0; K < 20; ++K)
      Config["key" + std::to_string(K)] = "v" + std::to_string(Round);
}

std::size_t lookupAll() {
  std::size_t Found = 0;
  for (int K = 0; K < 40; ++K)
    Found += Config.count("key" + std::to_string(K));
  return Found;
}

int main() {
  std::thread Refresher(refresh);
  SERIAL_JOIN(Refresher);
  std::size_t Found = 0;
  for (int I = 0; I < 200; ++I)
    Found += lookupAll();
  if (Refresher.joinable())
    Refresher.join();
  std::printf("keys=%zu key7=%s\n", Config.size(), Config.at("key7").c_str());
  return Found >= 0 ? 0 : 1;
}
