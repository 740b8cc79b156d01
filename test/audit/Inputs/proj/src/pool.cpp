// Includes the same header as reporter.cpp: its finding is reported once.
#include <thread>

#include "util.h"

void poll();

void startPoller() {
  std::thread Poller([] {
    for (;;)
      poll();
  });
  Poller.detach();
}
