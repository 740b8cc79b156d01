#include "service/session_store.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace service {
void startMetricsReporter();
void runHeartbeatFor(std::chrono::milliseconds Duration);
void runPool();
std::size_t addThenMeasure(std::vector<std::string> &Names, std::string Name);
} // namespace service

int main() {
  service::SessionStore Store;
  Store.startIngest();
  std::size_t Seen = 0;
  for (int I = 0; I < 100; ++I)
    Seen += Store.eventCount(I % 16);
  Store.stopIngest();

  std::vector<std::string> Names{"ada"};
  Seen += service::addThenMeasure(Names, "grace");
  service::runPool();
  std::printf("%zu\n", Seen);
  return 0;
}
