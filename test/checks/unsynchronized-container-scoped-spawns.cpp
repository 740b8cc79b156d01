// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- \
// RUN:   -config="{CheckOptions: {concguard.SpawnFunctions: 'Pool::submit:1'}}" -- -isystem %runtime_include

// A thread started and joined inside one `if` or loop body: the statements
// between the start and the join run beside the thread. (A guard or a loop
// that joins threads started before it stops them as a whole; that rule
// must not swallow the region of a spawn inside the same statement.) The
// last shape is monero's wallet2::refresh: one pool task per iteration,
// waited for through the waiter given to submit, while a catch handler
// rebuilds the list the task updates.

#include <functional>
#include <list>
#include <stdexcept>
#include <thread>
#include <vector>

bool more();
void process();

void startedInIf(std::list<int> &History) {
  if (more()) {
    std::thread Puller([&History] { History.push_front(1); });
    // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: 'History' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'startedInIf' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    History.clear();
    Puller.join();
  }
}

void startedPerIteration(std::vector<int> &Batch) {
  while (more()) {
    std::thread Filler([&Batch] { Batch.push_back(1); });
    // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: 'Batch' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'startedPerIteration' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    Batch.clear();
    Filler.join();
  }
}

struct Pool {
  struct Waiter {
    bool wait();
  };
  void submit(Waiter *W, std::function<void()> Task);
};

struct Wallet {
  Pool &Workers;
  void pull(std::list<int> &History) { History.push_front(1); }
  // CHECK-MESSAGES: :[[@LINE-1]]:40: warning: 'History' is modified here on the thread started at line [[@LINE+8]] while it is modified in 'Wallet::refresh' after it starts the thread at line [[@LINE+8]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

  void refresh() {
    std::list<int> History;
    Pool::Waiter Done;
    bool First = true;
    while (more()) {
      try {
        Workers.submit(&Done, [&] { pull(History); });
        if (!First) {
          try {
            process();
          } catch (const std::exception &) {
            History.clear();
          }
        }
        if (!Done.wait())
          throw std::runtime_error("task failed");
        First = false;
      } catch (...) {
        return;
      }
    }
  }

  // Clean: the task is waited for before the handler runs.
  void refreshFixed() {
    std::list<int> History;
    Pool::Waiter Done;
    while (more()) {
      Workers.submit(&Done, [&] { pull(History); });
      try {
        process();
      } catch (const std::exception &) {
        Done.wait();
        History.clear();
      }
      Done.wait();
    }
  }
};

// Clean: each iteration joins its thread before it touches the vector.
void joinedPerIteration(std::vector<int> &Batch) {
  while (more()) {
    std::thread Filler([&Batch] { Batch.push_back(1); });
    Filler.join();
    Batch.clear();
  }
}

// Clean: a guarded join of a thread started before the `if` still stops
// the thread at the `if`.
void guardedJoin(std::vector<int> &Batch) {
  std::thread Filler([&Batch] { Batch.push_back(1); });
  if (Filler.joinable())
    Filler.join();
  Batch.clear();
}

bool stopRequested();

// Clean: one worker at a time; the join and the restart are in different
// branches of one `if`.
void supervise(std::vector<int> &Batch) {
  std::thread Worker;
  while (more()) {
    if (stopRequested()) {
      if (Worker.joinable())
        Worker.join();
      break;
    } else if (!Worker.joinable()) {
      Worker = std::thread([&Batch] { Batch.push_back(1); });
    }
  }
}

// Clean: the previous iteration's thread is joined at the top of the loop
// before the vector is touched and the next one starts.
void joinPreviousFirst(std::vector<int> &Batch) {
  std::thread Filler;
  while (more()) {
    if (Filler.joinable())
      Filler.join();
    Batch.clear();
    Filler = std::thread([&Batch] { Batch.push_back(1); });
  }
  if (Filler.joinable())
    Filler.join();
}
