#include "jobs.h"

void Jobs::add(int Job) {
  Lock sync(*this);
  Pending.push_back(Job);
}

int Jobs::take() {
  Lock sync(*this);
  int Job = Pending.back();
  Pending.pop_back();
  return Job;
}
