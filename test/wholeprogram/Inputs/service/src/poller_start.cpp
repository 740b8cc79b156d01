#include "service.h"

void Poller::start() { Thread = std::thread(&Poller::loop, this); }
void Poller::stop() { Thread.join(); }

void Ticker::start() { Thread = std::thread(&Ticker::loop, this); }
void Ticker::stop() {
  Stopping = true;
  Thread.join();
}
