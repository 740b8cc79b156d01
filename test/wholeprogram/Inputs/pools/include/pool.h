// Two thread pools whose code lives in src/pool.cpp: callers in other
// units see only these declarations.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

/// Several workers take tasks from one queue.
class Pool {
public:
  struct Waiter {
    bool wait();
  };
  explicit Pool(unsigned Count);
  ~Pool();
  void submit(Waiter *Done, std::function<void()> Task);
  /// Stops the workers and joins them (queued tasks are dropped).
  void finish();

private:
  void run();
  std::mutex Mu;
  std::condition_variable HasWork;
  std::deque<std::function<void()>> Queue;
  std::vector<std::thread> Workers;
  bool Stopping = false;
};

/// One worker: its tasks run one after another.
class Serial {
public:
  Serial();
  ~Serial();
  void post(std::function<void()> Task);
  void drain();

private:
  void run();
  std::mutex Mu;
  std::condition_variable HasWork;
  std::deque<std::function<void()>> Queue;
  std::thread Worker;
  bool Stopping = false;
};
