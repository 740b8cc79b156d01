// RUN: %check_concguard -std=c++20 %s concguard-uncancellable-thread %t

// A spawn wrapper inferred without the SpawnFunctions option (a function
// that hands its callable parameter to a thread start) starts a thread for
// its callers: an endless callable is reported at the wrapper's call. A
// task submitted to a pool is not this check's business.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

void poll();

template <typename F> std::thread startThread(F &&Fn) {
  return std::thread(std::forward<F>(Fn));
}

void endlessThroughWrapper() {
  std::thread T = startThread([] {
    // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: thread runs a loop that can never end: nothing can stop the thread or wait for it to finish [concguard-uncancellable-thread]
    while (true)
      poll();
  });
  T.join();
}

// Clean twin: the loop can be stopped.
void stoppableThroughWrapper(const bool &Stop) {
  std::thread T = startThread([&Stop] {
    while (true) {
      if (Stop)
        break;
      poll();
    }
  });
  T.join();
}

// Not a wrapper: it joins the thread it starts, so its call starts nothing
// for the caller. (Inside it, the callable is its parameter, which the
// model does not resolve: this endless loop is a miss.)
template <typename F> void runAndWait(F Fn) {
  std::thread Worker(Fn);
  Worker.join();
}

void endlessButWaited() {
  runAndWait([] {
    while (true)
      poll();
  });
}

class Pool {
public:
  Pool() {
    for (int I = 0; I < 2; ++I)
      Workers.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Done = true;
    }
    Cv.notify_all();
    for (std::jthread &Worker : Workers)
      Worker.join();
  }
  void submit(std::function<void()> Task) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Tasks.push_back(std::move(Task));
    Cv.notify_one();
  }

private:
  void work() {
    for (;;) {
      std::function<void()> Task;
      {
        std::unique_lock<std::mutex> Lock(Mutex);
        Cv.wait(Lock, [this] { return Done || !Tasks.empty(); });
        if (Tasks.empty())
          return;
        Task = std::move(Tasks.front());
        Tasks.pop_front();
      }
      Task();
    }
  }
  std::mutex Mutex;
  std::condition_variable Cv;
  std::deque<std::function<void()>> Tasks;
  bool Done = false;
  std::vector<std::jthread> Workers;
};

// A pool task is not reported by this check.
void endlessTask(Pool &P) {
  P.submit([] {
    while (true)
      poll();
  });
}
