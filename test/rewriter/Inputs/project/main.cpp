#include "store.h"

int main() {
  Store S;
  S.start();
  std::size_t N = S.size("1");
  S.stop();
  return N > 1000 ? 1 : 0;
}
