#include "pool.h"

#include <future>

Pool::Pool(unsigned Count) {
  Workers.reserve(Count);
  for (unsigned I = 0; I < Count; ++I)
    Workers.emplace_back([this] { run(); });
}

Pool::~Pool() { finish(); }

void Pool::finish() {
  {
    std::lock_guard<std::mutex> Lock(Mu);
    Stopping = true;
  }
  HasWork.notify_all();
  for (std::thread &W : Workers)
    if (W.joinable())
      W.join();
}

void Pool::submit(Waiter *, std::function<void()> Task) {
  std::lock_guard<std::mutex> Lock(Mu);
  Queue.push_back(std::move(Task));
  HasWork.notify_one();
}

void Pool::run() {
  for (;;) {
    std::function<void()> Task;
    {
      std::unique_lock<std::mutex> Lock(Mu);
      HasWork.wait(Lock, [this] { return Stopping || !Queue.empty(); });
      if (Stopping)
        return;
      Task = std::move(Queue.front());
      Queue.pop_front();
    }
    Task();
  }
}

Serial::Serial() : Worker([this] { run(); }) {}

Serial::~Serial() {
  {
    std::lock_guard<std::mutex> Lock(Mu);
    Stopping = true;
  }
  HasWork.notify_all();
  Worker.join();
}

void Serial::post(std::function<void()> Task) {
  std::lock_guard<std::mutex> Lock(Mu);
  Queue.push_back(std::move(Task));
  HasWork.notify_one();
}

void Serial::run() {
  for (;;) {
    std::function<void()> Task;
    {
      std::unique_lock<std::mutex> Lock(Mu);
      HasWork.wait(Lock, [this] { return Stopping || !Queue.empty(); });
      if (Stopping)
        return;
      Task = std::move(Queue.front());
      Queue.pop_front();
    }
    Task();
  }
}

void Serial::drain() {
  std::promise<void> Done;
  std::future<void> Finished = Done.get_future();
  post([&Done] { Done.set_value(); });
  Finished.wait();
}
