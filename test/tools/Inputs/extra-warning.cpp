// An input that expects one warning but gets two: the runner must reject it.
#include <thread>
void work();
void f() {
  std::thread t(work);
  t.detach();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: detached thread
  std::thread(work).detach();
}
