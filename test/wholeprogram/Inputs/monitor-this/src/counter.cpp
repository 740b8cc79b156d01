#include "jobs.h"

void Counter::add(int N) {
  std::lock_guard<Monitor> Guard(*this);
  Samples.push_back(N);
}

void Counter::reset() {
  lock();
  Samples.clear();
  unlock();
}
