#include "events.h"

void notifyEnd(const std::vector<Listener *> &Listeners, const Status &Old,
               const Status &New, Mutex *Mu) {
  if (Listeners.empty())
    return;
  Mu->Unlock();
  for (Listener *L : Listeners)
    L->onEnd(Old, New);
  Mu->Lock();
}

void notifyBefore(const Status &S, Mutex *Mu) {
  Status Copy = S;
  Mu->Unlock();
  (void)Copy.Code;
  Mu->Lock();
}

void notifyHeld(const Status &S, Mutex *) { (void)S.Code; }

void notifyCopy(Status S, Mutex *Mu) {
  Mu->Unlock();
  (void)S.Code;
  Mu->Lock();
}
