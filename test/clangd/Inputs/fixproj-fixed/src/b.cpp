#include "spin.h"

void spinA();

void spinB() {
  std::jthread t{[&](std::stop_token st) {
    do
      work();
    while (!st.stop_requested());
  }};
}

int main() {
  spinA();
  spinB();
  spinInHeader();
}
