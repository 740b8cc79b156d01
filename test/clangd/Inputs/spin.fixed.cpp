#include <thread>

void work();

void spin() {
  std::jthread t([](std::stop_token st) {
    while (!st.stop_requested()) {
      work();
    }
  });
}
