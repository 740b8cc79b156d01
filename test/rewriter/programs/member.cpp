// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A member map written by the object's own worker thread while a member
// function reads it.
#include "serial.h"
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>

class Inventory {
public:
  void start() {
    Worker = std::thread(&Inventory::restock, this);
    SERIAL_JOIN(Worker);
  }
  void stop() {
    if (Worker.joinable())
      Worker.join();
  }
  std::size_t kinds() const { return Stock.size(); }
  int total() const {
    int Sum = 0;
    for (const auto &[Item, N] : Stock)
      Sum += N;
    return Sum;
  }

private:
  void restock() {
    for (int I = 0; I < 5000; ++I)
      Stock["item" + std::to_string(I % 50)] += 2;
  }
  std::unordered_map<std::string, int> Stock;
  std::thread Worker;
};

int main() {
  Inventory Shop;
  Shop.start();
  std::size_t Polled = 0;
  for (int I = 0; I < 2000; ++I)
    Polled += Shop.kinds();
  Shop.stop();
  std::printf("kinds=%zu total=%d\n", Shop.kinds(), Shop.total());
  return Polled > 0 ? 0 : 0;
}
