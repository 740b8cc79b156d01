// An input that expects a warning the check does not give.
#include <thread>
void work();
void f() {
  // CHECK-MESSAGES: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t(work);
  t.join();
}
