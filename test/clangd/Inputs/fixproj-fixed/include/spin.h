#ifndef SPIN_H
#define SPIN_H

#include <thread>

void work();

// Included by both translation units: one fix, applied once.
inline void spinInHeader() {
  std::jthread t([](std::stop_token st) {
    for (; !st.stop_requested();)
      work();
  });
}

#endif
