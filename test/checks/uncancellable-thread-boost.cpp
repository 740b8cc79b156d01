// RUN: env CPLUS_INCLUDE_PATH=%concguard_src/tools/common/boost-compat \
// RUN:   %check_concguard -std=c++17 %s concguard-uncancellable-thread %t

// boost::thread is a thread start for the race check, but this check leaves
// it alone: its destructor detaches (Boost.Thread's default, version 2)
// instead of calling std::terminate, and interrupt() stops it at its
// interruption points (sleep, wait, this_thread::interruption_point), which
// the check's stop model does not know. Nothing is reported for
// boost::thread here, for shapes that are reported with std::thread.

#include <boost/thread/thread.hpp>

#include <atomic>
#include <functional>
#include <thread>

void spin() {
  for (;;)
    boost::this_thread::interruption_point();
}

void detachedByDestructor() { boost::thread Worker(spin); }

// The same shapes with std::thread are reported.
void stdDetached() { std::thread(spin).detach(); }
// CHECK-MESSAGES: :[[@LINE-1]]:22: warning: detached thread can be neither stopped nor joined: {{.*}} [concguard-uncancellable-thread]
// CHECK-MESSAGES: :[[@LINE-2]]:22: warning: thread runs a loop that can never end: nothing can stop the thread or wait for it to finish [concguard-uncancellable-thread]

class Monitor {
public:
  void start() { Worker = boost::thread(&Monitor::run, this); }
  void stop() {
    Worker.interrupt();
    Worker.join();
  }

private:
  void run() {
    while (true)
      boost::this_thread::sleep_for(boost::chrono::milliseconds(10));
  }
  boost::thread Worker;
};

// Nor through a function that hands its callable to a boost::thread (no
// inferred spawn wrapper around one).
class Service {
public:
  void begin(std::function<void()> Work) { Worker = boost::thread(Work); }
  void end() {
    Worker.interrupt();
    Worker.join();
  }

private:
  boost::thread Worker;
};

void serve(Service &S) { S.begin(spin); }
