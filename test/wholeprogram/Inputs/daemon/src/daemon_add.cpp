#include "daemon.h"

void Daemon::add(int Key) { Routes[Key].push_back("added"); }

void LockedDaemon::add(int Key) {
  MutexLock Lock(&Mu);
  Routes[Key].push_back("added");
}
