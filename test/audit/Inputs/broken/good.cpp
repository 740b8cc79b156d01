#include <thread>
void work();
void start() {
  std::thread([] { for (;;) work(); }).detach();
}
