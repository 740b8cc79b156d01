#include "spin.h"

void spinA();

void spinB() {
  std::thread t{[&] {
    do
      work();
    while (1);
  }};
  t.join();
}

int main() {
  spinA();
  spinB();
  spinInHeader();
}
