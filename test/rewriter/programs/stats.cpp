// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Per-endpoint statistics in a struct value: a worker updates fields of
// m[k] (`Stats[K].Hits++`, `Stats[K].Last = X`) while the main thread
// reads one (`Stats[K].Hits`).
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

struct Endpoint {
  long Hits = 0;
  std::string Last;
};

std::unordered_map<int, Endpoint> Stats;

void serve() {
  for (int I = 0; I < 4000; ++I) {
    Stats[I % 8].Hits++;
    Stats[I % 8].Last = "request" + std::to_string(I);
  }
}

int main() {
  std::thread Server(serve);
  SERIAL_JOIN(Server);
  long Polled = 0;
  for (int I = 0; I < 4000; ++I)
    Polled += Stats[I % 8].Hits >= 0 ? 1 : 0;
  if (Server.joinable())
    Server.join();
  long Total = 0;
  for (int K = 0; K < 8; ++K)
    Total += Stats[K].Hits;
  std::printf("total=%ld last=%s polled=%ld\n", Total, Stats[7].Last.c_str(),
              Polled);
  return 0;
}
