// Heartbeats to the load balancer.
#include <chrono>
#include <thread>

namespace service {

void sendHeartbeat() {}

// BUG (concguard-uncancellable-thread): the destructor joins a thread whose
// loop can never end, so destroying a Heartbeat hangs shutdown.
class Heartbeat {
public:
  Heartbeat() : Worker(&Heartbeat::run, this) {}
  ~Heartbeat() { Worker.join(); }

private:
  void run() {
    for (;;) {
      sendHeartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  std::thread Worker;
};

void runHeartbeatFor(std::chrono::milliseconds Duration) {
  Heartbeat Beat;
  std::this_thread::sleep_for(Duration);
}

} // namespace service
