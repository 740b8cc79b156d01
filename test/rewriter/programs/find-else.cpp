// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Routes looked up once and then either counted as a miss or updated, the
// two-branch form of a kept find() iterator: `auto It = m.find(k); if (It ==
// m.end()) { A } else { B writing It->second }` (and an `if` with its
// init-statement). Two workers route while a third thread adds routes they
// never ask for; the misses go to a counter of the caller. The rewrite is
// `if (!m.update(k, B)) { A }`: the lookup and B's writes are one atomic
// step, A runs when the key is missing.
#include "serial.h"
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

struct Route {
  long Hits = 0;
  long Bytes = 0;
  long Checks = 0;
};

std::unordered_map<std::string, Route> Routes;
std::atomic<long> Misses{0};

void route(const std::string &Path, long Bytes) {
  auto It = Routes.find(Path);
  if (It == Routes.end()) {
    Misses.fetch_add(1);
  } else {
    It->second.Hits++;
    It->second.Bytes += Bytes;
  }
}

bool known(const std::string &Path) {
  bool Found = true;
  if (auto It = Routes.find(Path); It == Routes.end())
    Found = false;
  else
    It->second.Checks++;
  return Found;
}

void traffic(int Offset) {
  for (int I = 0; I < 3000; ++I) {
    std::string Path = "/r" + std::to_string((I + Offset) % 5);
    route(Path, I % 13);
    if (!known(Path))
      route("/missing", 1);
  }
}

int main() {
  for (int R = 0; R < 4; ++R)
    Routes["/r" + std::to_string(R)].Hits = 0;
  std::thread Adder([] {
    for (int R = 100; R < 500; ++R)
      Routes["/r" + std::to_string(R)].Bytes = R;
  });
  SERIAL_JOIN(Adder);
  std::thread Worker([] { traffic(1); });
  SERIAL_JOIN(Worker);
  traffic(2);
  if (Adder.joinable())
    Adder.join();
  if (Worker.joinable())
    Worker.join();
  long Hits = 0;
  long Bytes = 0;
  long Checks = 0;
  for (int R = 0; R < 4; ++R) {
    Checks += Routes.at("/r" + std::to_string(R)).Checks;
    Hits += Routes.at("/r" + std::to_string(R)).Hits;
    Bytes += Routes.at("/r" + std::to_string(R)).Bytes;
  }
  std::printf("hits=%ld bytes=%ld checks=%ld misses=%ld routes=%zu\n", Hits,
              Bytes, Checks, Misses.load(), Routes.size());
  return 0;
}
