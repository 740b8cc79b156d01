#include "daemon.h"

void Daemon::run() { Routes[1].push_back("route"); }

void LockedDaemon::run() {
  MutexLock Lock(&Mu);
  Routes[1].push_back("route");
}
