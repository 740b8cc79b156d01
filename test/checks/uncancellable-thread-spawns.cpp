// RUN: %check_concguard -std=c++17 %s concguard-uncancellable-thread %t -- \
// RUN:   -config="{CheckOptions: {concguard-uncancellable-thread.SpawnFunctions: '::lib::spawn:1;Pool::submit'}}"

// Every way to start a thread, and every kind of callable, is followed into
// its body.

#include <deque>
#include <future>
#include <memory>
#include <pthread.h>
#include <thread>
#include <vector>

void work();
bool poll();

void endlessFunction(int Id) {
  while (true)
    work();
  (void)Id;
}

void functionWithArguments() {
  // CHECK-NOTES: :[[@LINE+2]]:15: warning: thread runs a loop that can never end: nothing can stop the thread or wait for it to finish [concguard-uncancellable-thread]
  // CHECK-NOTES: :[[@LINE-7]]:3: note: loop with no exit that another thread can trigger
  std::thread t(endlessFunction, 7);
  t.join();
}

void functionPointer() {
  // A function pointer variable is followed to its initializer.
  void (*Entry)(int) = &endlessFunction;
  // CHECK-NOTES: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-16]]:3: note: loop with no exit
  std::thread t(Entry, 1);
  t.join();
}

struct Server {
  void run() {
    for (;;) {
      work();
    }
  }
  void startByMemberPointer() {
    // CHECK-NOTES: :[[@LINE+2]]:14: warning: thread runs a loop that can never end
    // CHECK-NOTES: :[[@LINE-6]]:5: note: loop with no exit
    Worker = std::thread(&Server::run, this);
  }
  void startByLambdaCallingMember() {
    // CHECK-NOTES: :[[@LINE+3]]:14: warning: thread runs a loop that can never end
    // CHECK-NOTES: :[[@LINE+2]]:35: note: the thread calls 'run' here
    // CHECK-NOTES: :[[@LINE-12]]:5: note: loop with no exit
    Worker = std::thread([this] { run(); });
  }
  void stop() { Worker.join(); }
  std::thread Worker;
};

struct Spinner {
  void operator()() const {
    while (true)
      work();
  }
};

void functor() {
  // CHECK-NOTES: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-7]]:5: note: loop with no exit
  std::thread t{Spinner{}};
  t.join();
}

void lambdaInVariable() {
  auto Body = [] {
    while (true)
      work();
  };
  // CHECK-NOTES: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-4]]:5: note: loop with no exit
  std::thread t(Body);
  t.join();
}

void *pthreadEndless(void *) {
  while (true)
    work();
  return nullptr;
}

void *pthreadStoppable(void *Arg) {
  while (true) {
    if (*static_cast<volatile bool *>(Arg))
      break;
    work();
  }
  return nullptr;
}

void pthreads() {
  pthread_t A, B;
  // CHECK-NOTES: :[[@LINE+2]]:3: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-17]]:3: note: loop with no exit
  pthread_create(&A, nullptr, pthreadEndless, nullptr);
  volatile bool Stop = false;
  pthread_create(&B, nullptr, pthreadStoppable, (void *)&Stop);
  Stop = true;
  pthread_join(A, nullptr);
  pthread_join(B, nullptr);
}

void asyncTasks() {
  // CHECK-NOTES: :[[@LINE+1]]:17: warning: std::async task runs a loop that can never end: waiting for its future never returns
  auto Future = std::async(std::launch::async, [] {
    for (;;)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
  // A deferred task runs on the thread that waits for it: no new thread.
  auto Deferred = std::async(std::launch::deferred, [] {
    for (;;)
      work();
  });
  // The default policy may start a thread.
  // CHECK-NOTES: :[[@LINE+1]]:18: warning: std::async task runs a loop that can never end
  auto Default = std::async([] {
    for (;;)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
}

void discardedAsync() {
  // CHECK-NOTES: :[[@LINE+1]]:3: warning: the future returned by std::async is discarded and its task never ends: this statement blocks forever
  std::async(std::launch::async, [] {
    while (true)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
}

void threadPool(std::vector<std::thread> &Pool, std::deque<std::thread> &More) {
  // CHECK-NOTES: :[[@LINE+1]]:3: warning: thread runs a loop that can never end
  Pool.emplace_back([] {
    while (true)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
  // CHECK-NOTES: :[[@LINE+2]]:18: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-132]]:3: note: loop with no exit
  More.push_back(std::thread(endlessFunction, 2));
  Pool.emplace_back([] {
    while (!poll())
      work();
  });
}

std::unique_ptr<std::thread> onTheHeap() {
  // CHECK-NOTES: :[[@LINE+2]]:43: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-142]]:3: note: loop with no exit
  return std::unique_ptr<std::thread>(new std::thread(endlessFunction, 3));
}

namespace lib {
template <typename F> void spawn(int Priority, F &&Body) {
  (void)Priority;
  (void)Body;
}
} // namespace lib

struct Pool {
  template <typename F> void submit(F &&Task) { (void)Task; }
};

void configuredSpawnFunctions(Pool &P) {
  // CHECK-NOTES: :[[@LINE+1]]:3: warning: thread runs a loop that can never end
  lib::spawn(5, [] {
    while (true)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
  // CHECK-NOTES: :[[@LINE+1]]:3: warning: thread runs a loop that can never end
  P.submit([] {
    for (;;)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
  P.submit([] { work(); });
}

// The loop is followed through calls up to MaxCallDepth (3) deep.
void level3() {
  while (true)
    work();
}
void level2() { level3(); }
void level1() { level2(); }
void level0() { level1(); }
void levelMinus1() { level0(); }

void tooDeep() {
  std::thread t(levelMinus1);
  t.join();
}

void deepEnough() {
  // CHECK-NOTES: :[[@LINE+5]]:15: warning: thread runs a loop that can never end
  // CHECK-NOTES: :[[@LINE-10]]:17: note: the thread calls 'level1' here
  // CHECK-NOTES: :[[@LINE-12]]:17: note: the thread calls 'level2' here
  // CHECK-NOTES: :[[@LINE-14]]:17: note: the thread calls 'level3' here
  // CHECK-NOTES: :[[@LINE-18]]:3: note: loop with no exit
  std::thread t(level0);
  t.join();
}
