#pragma once
#include <thread>

void tick();

// A header finding suppressed by NOLINTNEXTLINE naming the check.
inline void startTicker() {
  std::thread T([] { tick(); });
  // NOLINTNEXTLINE(concguard-uncancellable-thread)
  T.detach();
}
