#ifndef SPIN_H
#define SPIN_H

#include <thread>

void work();

// Included by both translation units: one fix, applied once.
inline void spinInHeader() {
  std::thread t([] {
    for (;;)
      work();
  });
  t.join();
}

#endif
