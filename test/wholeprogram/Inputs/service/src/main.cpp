#include "service.h"

int main() {
  std::thread Producer(produce);
  drain();
  Producer.join();

  std::thread Writer(journal);
  Writer.join();
  report();

  Service S;
  S.start();
  (void)S.count();
  (void)S.total(1);
  S.stop();
  return 0;
}
