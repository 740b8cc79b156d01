// Periodic metrics flushing.
#include <chrono>
#include <cstdio>
#include <thread>

namespace service {

static void flushMetrics() { std::fflush(stdout); }

// BUG (concguard-uncancellable-thread): the reporter loops forever and is
// detached, so nobody can stop it or wait for it at shutdown.
void startMetricsReporter() {
  std::thread Reporter([] {
    while (true) {
      flushMetrics();
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  Reporter.detach();
}

} // namespace service
