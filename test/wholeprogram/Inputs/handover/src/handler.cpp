#include "events.h"

Handler::Handler(std::string N) { Name.Message = N; Name = Status{1, N}; }

void Handler::setError(const Status &S) {
  MutexLock L(&Mu);
  BgError = S;
}

void Handler::recover() {
  MutexLock L(&Mu);
  notifyEnd(Listeners, BgError, Status(), &Mu);
}

void Handler::recoverCopy() {
  MutexLock L(&Mu);
  Status Copy = BgError;
  notifyEnd(Listeners, Copy, Status(), &Mu);
}

void Handler::recoverUnlocked() { notifyEnd(Listeners, Status(), BgError, &Mu); }

void Handler::recoverBefore() {
  MutexLock L(&Mu);
  notifyBefore(BgError, &Mu);
}

void Handler::recoverHeld() {
  MutexLock L(&Mu);
  notifyHeld(BgError, &Mu);
}

void Handler::recoverByValue() {
  MutexLock L(&Mu);
  notifyCopy(BgError, &Mu);
}

void Handler::announceName() {
  MutexLock L(&Mu);
  notifyEnd(Listeners, Name, Name, &Mu);
}
