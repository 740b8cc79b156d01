// RUN: %check_concguard -std=c++20 %s concguard-uncancellable-thread %t

// Which loops can never end, and which exits another thread can trigger.

#undef NDEBUG
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stop_token>
#include <thread>

void work();
bool poll();
[[noreturn]] void fatal();

struct Channel {
  bool closed() const;
  int receive();
};

std::atomic<bool> StopFlag{false};
volatile int Signal = 0;

void endlessWhileTrue() {
  // CHECK-NOTES: :[[@LINE+1]]:15: warning: thread runs a loop that can never end: nothing can stop the thread or wait for it to finish [concguard-uncancellable-thread]
  std::thread t([] {
    while (true) {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit that another thread can trigger
      work();
    }
  });
  t.detach();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
  // CHECK-NOTES: :[[@LINE-8]]:15: note: thread started here
}

void endlessForEver(std::thread &Out) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([] {
    for (;;)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit that another thread can trigger
      work();
  });
}

void endlessWhileOne(std::thread &Out) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([] {
    while (1)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
}

void endlessDoWhile(std::thread &Out) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([] {
    do {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
    } while (true);
  });
}

// A constant local never changes: its `break` can never be taken.
// Reduced from leveldb's PosixEnv::BackgroundThreadMain: a failed assert()
// ends the program on a bug; it is no way to stop the thread, so the loop
// around it is still endless (it was missed in builds without NDEBUG). The
// asserted condition reads through a pointer, so it may change: were the
// assertion handler an exit, it would be a live one.
void endlessAroundAssert(std::thread &Out, int *Queue) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([Queue] {
    while (true) {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      assert(*Queue >= 0);
      work();
    }
  });
}

void exitUnderInvariantLocal(std::thread &Out) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([] {
    bool Done = false;
    while (true) {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      if (Done)
        break;
      work();
    }
  });
}

// A `break` that leaves an inner loop or a switch does not leave the loop.
void breakOnlyLeavesInnerConstructs(std::thread &Out, Channel &Ch) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([&Ch] {
    for (;;) {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      switch (Ch.receive()) {
      case 0:
        break;
      default:
        work();
      }
      for (int I = 0; I < 3; ++I)
        if (poll())
          break;
    }
  });
}

// A throw caught inside the loop does not leave it.
void throwCaughtInside(std::thread &Out) {
  // CHECK-NOTES: :[[@LINE+1]]:9: warning: thread runs a loop that can never end
  Out = std::thread([] {
    while (true) {
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      try {
        if (poll())
          throw 1;
      } catch (int) {
        work();
      }
    }
  });
}

// Loops that another thread, or the loop itself, can end.

void stopTokenCondition(std::stop_token Token) {
  std::jthread t([Token] {
    while (true) {
      if (Token.stop_requested())
        return;
      work();
    }
  });
}

void atomicFlag() {
  std::thread t([] {
    while (true) {
      if (StopFlag.load())
        break;
      work();
    }
  });
  t.join();
}

void atomicFlagImplicitLoad() {
  std::thread t([] {
    for (;;) {
      if (StopFlag)
        return;
      work();
    }
  });
  t.join();
}

void volatileSignal() {
  std::thread t([] {
    while (true) {
      if (Signal != 0)
        break;
    }
  });
  t.join();
}

void closedChannel(Channel &Ch) {
  std::thread t([&Ch] {
    while (true) {
      if (Ch.closed())
        break;
      Ch.receive();
    }
  });
  t.join();
}

void flagCapturedByReference() {
  std::atomic<bool> Stop{false};
  std::thread t([&Stop] {
    while (true) {
      if (Stop)
        break;
      work();
    }
  });
  Stop = true;
  t.join();
}

void localCounterEndsTheLoop() {
  std::thread t([] {
    int Rounds = 0;
    while (true) {
      if (++Rounds == 10)
        break;
      work();
    }
  });
  t.join();
}

void throwOutOfTheLoop() {
  std::thread t([] {
    try {
      while (true) {
        if (poll())
          throw 42;
      }
    } catch (int) {
    }
  });
  t.join();
}

void noreturnCall() {
  std::thread t([] {
    while (true) {
      if (poll())
        fatal();
      if (poll())
        std::exit(1);
    }
  });
  t.join();
}

void gotoOutOfTheLoop() {
  std::thread t([] {
    while (true) {
      if (poll())
        goto done;
      work();
    }
  done:
    work();
  });
  t.join();
}

void unconditionalBreak() {
  std::thread t([] {
    while (true) {
      work();
      break;
    }
  });
  t.join();
}

void conditionVariableWithStopToken(std::mutex &M,
                                    std::condition_variable_any &CV) {
  std::jthread t([&](std::stop_token Token) {
    while (true) {
      std::unique_lock Lock(M);
      if (!CV.wait(Lock, Token, [] { return poll(); }))
        return;
      work();
    }
  });
}

void exitFromCatchHandler() {
  std::thread t([] {
    while (true) {
      try {
        work();
      } catch (...) {
        break;
      }
    }
  });
  t.join();
}

// A loop that is not constant-true is not this check's business (a plain
// bool flag shared with another thread is a data race, reported by
// concguard-unsynchronized-container, not an uncancellable loop).
void nonConstantCondition(bool &Running) {
  std::thread t([&Running] {
    while (Running)
      work();
  });
  t.join();
}

// Endless loops outside thread bodies are not reported.
void mainLoop() {
  while (true)
    work();
}
