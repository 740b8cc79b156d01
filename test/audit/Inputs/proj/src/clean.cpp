// Nothing to report: the thread is joined and its loop ends.
#include <thread>

void step(int);

void runSteps() {
  std::thread Steps([] {
    for (int I = 0; I < 10; ++I)
      step(I);
  });
  Steps.join();
}
