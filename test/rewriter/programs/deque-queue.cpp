// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged non-map container
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A std::deque used as a work queue by a producer and a consumer thread.
// The consumer's test-and-take (`if (!Queue.empty()) { take front;
// pop_front; }`) becomes one callback under the write lock, so no item is
// taken twice or lost; what the consumer took is summed outside the lock.
#include "serial.h"
#include <cstdio>
#include <deque>
#include <thread>

std::deque<int> Queue;

int main() {
  std::thread Producer([] {
    for (int I = 1; I <= 3000; ++I)
      Queue.push_back(I);
  });
  SERIAL_JOIN(Producer);
  long Sum = 0;
  std::thread Consumer([&] {
    for (int Taken = 0; Taken < 3000;) {
      int Item = 0;
      if (!Queue.empty()) {
        Item = Queue.front();
        Queue.pop_front();
      }
      if (Item != 0) {
        Sum += Item;
        ++Taken;
      }
    }
  });
  SERIAL_JOIN(Consumer);
  if (Producer.joinable())
    Producer.join();
  if (Consumer.joinable())
    Consumer.join();
  std::printf("sum=%ld left=%zu\n", Sum, Queue.size());
  return 0;
}
