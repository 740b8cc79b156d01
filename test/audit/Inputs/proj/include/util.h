#pragma once
#include <thread>

void tick();

// A detached endless thread in a header included by two translation units.
inline void startTicker() {
  std::thread([] {
    while (true)
      tick();
  }).detach();
}
