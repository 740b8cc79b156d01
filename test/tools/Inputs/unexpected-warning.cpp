// An input whose warning has no CHECK line: the runner must reject it.
#include <thread>
void work();
void f() {
  std::thread t(work);
  t.detach();
}
