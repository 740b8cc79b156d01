#include "spin.h"

int Counter = 0;

void work() { ++Counter; }

void spinA() {
  std::thread t([] {
    while (true) {
      work();
    }
  });
  t.join();
}
