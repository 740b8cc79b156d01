#include "service.h"

void Service::run() {
  for (int I = 0; I < 100; ++I) {
    record(I);
    std::lock_guard<std::mutex> Lock(Mu);
    Totals[I % 4] += I;
  }
}
