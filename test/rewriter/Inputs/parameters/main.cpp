#include "registry.h"
#include <thread>

Registry Events;

int main() {
  std::thread Recorder([] {
    for (int I = 0; I < 100; ++I)
      record(Events, std::to_string(I % 5));
  });
  int N = lookup(Events, "1") + countAll(Events);
  Recorder.join();
  return N > 1000 ? 1 : 0;
}
