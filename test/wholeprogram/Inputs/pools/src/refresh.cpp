// Tasks submitted to the pools of src/pool.cpp, and a thread started by the
// wrapper of src/spawn.cpp. Only the project index (or the audit's second
// round) shows that submit(), post() and startWorker() run their callable
// on other threads.
#include "pool.h"
#include "spawn.h"

#include <list>
#include <map>
#include <string>
#include <vector>

// The caller clears the list while the task may still be filling it.
void refresh(Pool &Workers, std::list<int> &History) {
  Pool::Waiter Done;
  Workers.submit(&Done, [&History] { History.push_front(1); });
  History.clear();
  Done.wait();
}

// Clean: the caller waits for the task first.
void refreshAfterWait(Pool &Workers, std::list<int> &History) {
  Pool::Waiter Done;
  Workers.submit(&Done, [&History] { History.push_front(1); });
  Done.wait();
  History.clear();
}

// Clean: finish() joins the pool's workers (its body, in src/pool.cpp, says
// so; its name does not).
void refreshThenFinish(Pool &Workers, std::list<int> &History) {
  Pool::Waiter Done;
  Workers.submit(&Done, [&History] { History.push_front(1); });
  Workers.finish();
  History.clear();
}

// Two tasks of a pool with several workers may run at the same time.
void countBoth(Pool &Workers, std::map<std::string, int> &Counts) {
  Pool::Waiter Done;
  Workers.submit(&Done, [&Counts] { ++Counts["a"]; });
  Workers.submit(&Done, [&Counts] { ++Counts["b"]; });
  Done.wait();
}

// Clean: the single worker runs one task after the other.
void countInOrder(Serial &Worker, std::map<std::string, int> &Counts) {
  Worker.post([&Counts] { ++Counts["a"]; });
  Worker.post([&Counts] { ++Counts["b"]; });
  Worker.drain();
}

// A thread started through the wrapper of src/spawn.cpp: the caller writes
// the vector before it joins.
void collect(std::vector<std::string> &Lines) {
  std::thread Worker = startWorker([&Lines] { Lines.push_back("line"); });
  Lines.clear();
  Worker.join();
}

// Clean: the caller joins first.
void collectAfterJoin(std::vector<std::string> &Lines) {
  std::thread Worker = startWorker([&Lines] { Lines.push_back("line"); });
  Worker.join();
  Lines.clear();
}

void poll();

// A thread started through the wrapper whose loop nothing can stop
// (concguard-uncancellable-thread, at the callable).
void watchForever() {
  std::thread Watcher = startWorker([] {
    while (true)
      poll();
  });
  Watcher.join();
}

// Clean: the loop ends when asked to.
void watchUntilStopped(const bool &Stop) {
  std::thread Watcher = startWorker([&Stop] {
    while (!Stop)
      poll();
  });
  Watcher.join();
}
