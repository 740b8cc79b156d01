#include "jobs.h"

void Jobs::clear() { Pending.clear(); }

void Jobs::clearLocked() {
  this->lock();
  Pending.clear();
  this->unlock();
}
