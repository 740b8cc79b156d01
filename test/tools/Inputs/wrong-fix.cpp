// An input whose CHECK-FIXES does not match what the fix-it produces.
#include <thread>
void work();
void f() {
  // CHECK-MESSAGES: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    while (true)
      work();
  });
  t.join();
}
// CHECK-FIXES: std::thread t([] {
