#include "daemon.h"

#include <functional>

void Daemon::start() {
  Thread.reset(new std::thread(std::bind(&Daemon::run, this)));
}

void Daemon::stop() {
  if (Thread)
    Thread->join();
}

void LockedDaemon::start() {
  Thread = new std::thread(std::bind(&LockedDaemon::run, this));
}

void LockedDaemon::stop() {
  if (Thread) {
    Thread->join();
    delete Thread;
    Thread = nullptr;
  }
}
