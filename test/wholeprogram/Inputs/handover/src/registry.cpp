#include "events.h"

static Mutex LastMu;
static Status LastStatus;
static std::vector<Listener *> AllListeners;

void setLast(const Status &S) {
  MutexLock L(&LastMu);
  LastStatus = S;
}

void publishLast() {
  MutexLock L(&LastMu);
  notifyEnd(AllListeners, Status(), LastStatus, &LastMu);
}
