#include <thread>

void work();

void spin() {
  std::thread t([] {
    while (true) {
      work();
    }
  });
  t.join();
}
