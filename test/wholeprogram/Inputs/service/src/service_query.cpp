#include "service.h"

std::size_t Service::count() const { return Samples.size(); }

int Service::total(int Key) {
  std::lock_guard<std::mutex> Lock(Mu);
  return Totals[Key];
}
