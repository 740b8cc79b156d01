// A detached reporter thread that loops forever (two findings), and a thread
// whose endless loop has a jthread fix-it.
#include <thread>

#include "util.h"

void flush();

void startReporter() {
  std::thread Reporter([] {
    while (true)
      flush();
  });
  Reporter.detach();
}

void runUntilKilled() {
  std::thread Worker([] {
    while (true) {
      flush();
    }
  });
  Worker.join();
}
