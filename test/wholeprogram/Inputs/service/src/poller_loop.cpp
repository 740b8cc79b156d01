#include "service.h"

void pollOnce();

void Poller::loop() {
  while (true)
    pollOnce();
}

void Ticker::loop() {
  while (!Stopping.load())
    pollOnce();
}
