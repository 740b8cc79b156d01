#include "spin.h"

int Counter = 0;

void work() { ++Counter; }

void spinA() {
  std::jthread t([](std::stop_token st) {
    while (!st.stop_requested()) {
      work();
    }
  });
}
