// RUN: %check_concguard -std=c++20 %s concguard-uncancellable-thread %t

// std::thread objects destroyed or overwritten while joinable, member
// threads, and std::jthread stop tokens.

#include <atomic>
#include <memory>
#include <stop_token>
#include <pthread.h>
#include <thread>
#include <utility>
#include <vector>

void work();
bool poll();
void consume(std::thread T);

void destroyedOnEarlyReturn() {
  std::thread t(work);
  if (poll())
    return;
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: std::thread 't' may be destroyed here while still joinable, which calls std::terminate; join or detach it on every path [concguard-uncancellable-thread]
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  t.join();
}

void neverJoined() {
  std::thread t(work);
}
// CHECK-NOTES: :[[@LINE-1]]:1: warning: std::thread 't' may be destroyed here while still joinable
// CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here

void joinedOnEveryPath() {
  std::thread t(work);
  if (poll()) {
    t.join();
    return;
  }
  t.detach();
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
  // CHECK-NOTES: :[[@LINE-7]]:15: note: thread started here
}

void guardedByJoinable() {
  std::thread t(work);
  work();
  if (t.joinable())
    t.join();
}

void guardedByNegatedJoinable() {
  std::thread t(work);
  if (!t.joinable())
    return;
  t.join();
}

void movedAway(std::vector<std::thread> &Pool) {
  std::thread t(work);
  Pool.push_back(std::move(t));
  std::thread u(work);
  consume(std::move(u));
}

std::thread returned() {
  std::thread t(work);
  return t;
}

void defaultConstructedThenStarted() {
  std::thread t;
  if (poll())
    t = std::thread(work);
  if (t.joinable())
    t.join();
}

void reassignedWhileJoinable() {
  std::thread t(work);
  t = std::thread(work);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: std::thread 't' is assigned a new thread while it may still be joinable, which calls std::terminate
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  t.join();
}

void loopOfJoins() {
  std::vector<std::thread> Pool;
  for (int I = 0; I < 4; ++I)
    Pool.emplace_back(work);
  // The joins are found; only the exception path of the filling loop is not
  // covered (uncancellable-thread-exceptions.cpp has the variants).
  // CHECK-NOTES: :[[@LINE-3]]:5: warning: if starting a thread here throws {{.*}} the threads already in 'Pool' are destroyed while joinable
  // CHECK-NOTES: :[[@LINE-5]]:3: note: threads are started in this loop
  // CHECK-NOTES: :[[@LINE-7]]:28: note: 'Pool' is destroyed while the exception unwinds the function
  for (std::thread &T : Pool)
    T.join();
}

void temporaryThread() {
  std::thread{work};
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: temporary std::thread is destroyed while still joinable at the end of the statement, which calls std::terminate
}

// Member threads.

class NeverJoinsMember {
public:
  NeverJoinsMember() : Worker(work) {}
  // CHECK-NOTES: :[[@LINE-1]]:24: warning: member std::thread 'Worker' is never joined or detached: destroying a 'NeverJoinsMember' while the thread runs calls std::terminate
  // CHECK-NOTES: :[[@LINE+2]]:15: note: member declared here
private:
  std::thread Worker;
};

class JoinsInDestructor {
public:
  JoinsInDestructor() : Worker([this] { loop(); }) {}
  ~JoinsInDestructor() {
    Stop = true;
    Worker.join();
  }

private:
  void loop() {
    while (true) {
      if (Stop)
        return;
      work();
    }
  }
  std::atomic<bool> Stop{false};
  std::thread Worker;
};

class JoinsThroughStopMethod {
public:
  void start() { Worker = std::thread(&JoinsThroughStopMethod::run, this); }
  void stop();
  ~JoinsThroughStopMethod() { stop(); }

private:
  void run() {
    while (!Done)
      work();
  }
  std::atomic<bool> Done{false};
  std::thread Worker;
};

void JoinsThroughStopMethod::stop() {
  Done = true;
  if (Worker.joinable())
    Worker.join();
}

// The destructor joins a thread that can never end: it deadlocks.
class DeadlocksInDestructor {
public:
  // CHECK-NOTES: :[[@LINE+1]]:29: warning: thread 'Worker' runs a loop that can never end, and the destructor of 'DeadlocksInDestructor' joins it: the destructor deadlocks
  DeadlocksInDestructor() : Worker(&DeadlocksInDestructor::run, this) {}
  ~DeadlocksInDestructor() { Worker.join(); }
  // CHECK-NOTES: :[[@LINE-1]]:30: note: joined here
  // CHECK-NOTES: :[[@LINE+4]]:5: note: loop with no exit that another thread can trigger

private:
  void run() {
    while (true) {
      work();
    }
  }
  std::thread Worker;
};

// The same through an owning pointer: the destructor's 'Worker->join()'
// joins the thread the member owns.
class DeadlocksThroughOwner {
public:
  DeadlocksThroughOwner() {
    // CHECK-NOTES: :[[@LINE+1]]:14: warning: thread 'Worker' runs a loop that can never end, and the destructor of 'DeadlocksThroughOwner' joins it: the destructor deadlocks
    Worker = std::make_unique<std::thread>(&DeadlocksThroughOwner::run, this);
  }
  ~DeadlocksThroughOwner() { Worker->join(); }
  // CHECK-NOTES: :[[@LINE-1]]:30: note: joined here
  // CHECK-NOTES: :[[@LINE+4]]:5: note: loop with no exit that another thread can trigger

private:
  void run() {
    while (true) {
      work();
    }
  }
  std::unique_ptr<std::thread> Worker;
};

// std::jthread and its stop token.

void jthreadIgnoresItsToken() {
  // CHECK-NOTES: :[[@LINE+1]]:16: warning: std::jthread callable takes a std::stop_token but never checks it; its loop cannot be stopped and the jthread's destructor will wait forever
  std::jthread t([](std::stop_token Token) {
    // CHECK-NOTES: :[[@LINE-1]]:37: note: stop token declared here
    while (true)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
}

void jthreadChecksItsToken() {
  std::jthread t([](std::stop_token Token) {
    while (!Token.stop_requested())
      work();
  });
  std::jthread u([](std::stop_token Token) {
    for (;;) {
      if (Token.stop_requested())
        break;
      work();
    }
  });
}

void jthreadWithoutToken() {
  // CHECK-NOTES: :[[@LINE+1]]:16: warning: std::jthread runs a loop that can never end and takes no std::stop_token: its destructor will request a stop the thread never sees and wait forever
  std::jthread t([] {
    while (true)
    // CHECK-NOTES: :[[@LINE-1]]:5: note: loop with no exit
      work();
  });
}

class JThreadMember {
public:
  JThreadMember() : Worker([this](std::stop_token Token) { run(Token); }) {}

private:
  void run(std::stop_token Token) {
    while (!Token.stop_requested())
      work();
  }
  std::jthread Worker;
};

// A thread pool that honours a stop flag.
class ThreadPool {
public:
  explicit ThreadPool(int N) {
    for (int I = 0; I < N; ++I)
      Workers.emplace_back([this] {
        while (true) {
          if (Stopping.load())
            return;
          work();
        }
      });
    // The loop can be stopped; only a start that throws is not handled.
    // CHECK-NOTES: :[[@LINE-8]]:7: warning: if starting a thread here throws {{.*}} the threads already in 'Workers' are destroyed while joinable
    // CHECK-NOTES: :[[@LINE-10]]:5: note: threads are started in this loop
    // CHECK-NOTES: :[[@LINE+10]]:28: note: 'Workers' is destroyed when the constructor of 'ThreadPool' exits by an exception
  }
  ~ThreadPool() {
    Stopping = true;
    for (std::thread &W : Workers)
      W.join();
  }

private:
  std::atomic<bool> Stopping{false};
  std::vector<std::thread> Workers;
};

// A pthread handle reused for a new thread after a cancel without a join:
// the cancelled thread can no longer be joined.
pthread_t Runner;
void *runnerBody(void *) { return nullptr; }

void restartRunner(bool Stalled) {
  if (Stalled) {
    pthread_cancel(Runner);
    if (pthread_create(&Runner, nullptr, &runnerBody, nullptr) != 0)
      return;
  }
  // CHECK-NOTES: :[[@LINE-3]]:9: warning: pthread_create overwrites the handle of a thread that was cancelled but not joined: that thread can no longer be joined, so nothing waits for it to stop and its resources are never released; join it after the cancel [concguard-uncancellable-thread]
  // CHECK-NOTES: :[[@LINE-5]]:5: note: cancelled here, without a join before the handle is reused
}

struct Supervisor {
  pthread_t Worker;
  void restart() {
    pthread_cancel(Worker);
    pthread_create(&Worker, nullptr, &runnerBody, nullptr);
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: pthread_create overwrites the handle of a thread that was cancelled but not joined
    // CHECK-NOTES: :[[@LINE-3]]:5: note: cancelled here
  }
  // Clean twins: joined after the cancel, or a different handle.
  void restartJoined() {
    pthread_cancel(Worker);
    pthread_join(Worker, nullptr);
    pthread_create(&Worker, nullptr, &runnerBody, nullptr);
  }
  void startSecond() {
    pthread_cancel(Worker);
    pthread_create(&Other, nullptr, &runnerBody, nullptr);
  }
  void createThenCancel() {
    pthread_create(&Worker, nullptr, &runnerBody, nullptr);
    pthread_cancel(Worker);
    pthread_join(Worker, nullptr);
  }
  pthread_t Other;
};
