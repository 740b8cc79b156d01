// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -isystem %runtime_include

// A catch handler runs beside a thread when a statement of its try block
// that may throw (a call, a construction, a throw) runs beside it: the
// handler's accesses belong to the spawning function's region until the
// join, as the statements after the try do. (The shape of monero's
// wallet2::refresh, where the handlers rebuild a list that a pool task is
// still reading.)

#include <future>
#include <list>
#include <map>
#include <stdexcept>
#include <thread>

void process(int Batch);

// The handler clears the list the thread reads.
void refresh(std::list<int> &History) {
  std::thread Puller([&History] {
    int Size = static_cast<int>(History.size());
    (void)Size;
  });
  try {
    process(1);
  } catch (const std::exception &) {
    History.clear();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'History' is modified here in 'refresh' after it starts the thread at line [[@LINE-8]] while it is read on the thread started at line [[@LINE-8]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  Puller.join();
}

// A handler of a nested try, reached through the outer handler.
void nested(std::map<int, int> &Counts) {
  std::thread Counter([&Counts] { Counts[1] = 1; });
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: 'Counts' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'nested' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  try {
    process(1);
  } catch (...) {
    try {
      process(2);
    } catch (...) {
      Counts.erase(2);
    }
  }
  Counter.join();
}

// Clean: the try block ends before the thread starts.
void handledBefore(std::list<int> &History) {
  try {
    process(1);
  } catch (const std::exception &) {
    History.clear();
  }
  std::thread Puller([&History] {
    int Size = static_cast<int>(History.size());
    (void)Size;
  });
  Puller.join();
}

// Clean: the thread is joined inside the try block before anything there
// may throw.
void joinedFirst(std::list<int> &History) {
  std::thread Puller([&History] {
    int Size = static_cast<int>(History.size());
    (void)Size;
  });
  try {
    Puller.join();
    process(1);
  } catch (const std::exception &) {
    History.clear();
  }
}

// Clean: a std::jthread declared in the try block is joined by its
// destructor while the exception unwinds, before the handler runs.
void jthreadInTry(std::list<int> &History) {
  try {
    std::jthread Puller([&History] {
      int Size = static_cast<int>(History.size());
      (void)Size;
    });
    process(1);
  } catch (...) {
    History.clear();
  }
}

// Clean: a std::async future declared in the try block waits in its
// destructor; the loop's next round starts another task only after it.
void asyncInTry(std::list<int> &History) {
  for (int Round = 0; Round < 3; ++Round) {
    try {
      auto Size = std::async(std::launch::async, [&History] {
        return static_cast<int>(History.size());
      });
      process(Round);
      (void)Size.get();
    } catch (...) {
      History.clear();
      continue;
    }
  }
}

void quiet(int Batch) noexcept;

// Clean: the try block holds only a call declared noexcept.
void nothrowCall(std::list<int> &History) {
  std::thread Puller([&History] {
    int Size = static_cast<int>(History.size());
    (void)Size;
  });
  try {
    quiet(1);
  } catch (...) {
    History.clear();
  }
  Puller.join();
}

// Clean: nothing in the try block may throw.
void nothingThrows(std::list<int> &History, int &Value) {
  std::thread Puller([&History] {
    int Size = static_cast<int>(History.size());
    (void)Size;
  });
  try {
    Value = 1;
  } catch (...) {
    History.clear();
  }
  Puller.join();
}

// The fix-it of the map parameter (compiled by the test).
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: void nested(concguard::snapshot_map<int, int, std::map<int, int>> &Counts) {
// CHECK-FIXES: std::thread Counter([&Counts] { Counts.insert_or_assign(1, 1); });
