// Clean: a worker pool whose threads honour a stop token and are joined by
// std::jthread's destructor; the queue is guarded by one mutex.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace service {

class WorkerPool {
public:
  explicit WorkerPool(unsigned Count) {
    for (unsigned I = 0; I < Count; ++I)
      Workers.emplace_back([this](std::stop_token Stop) { work(Stop); });
  }

  void submit(std::function<void()> Task) {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Tasks.push_back(std::move(Task));
    }
    Ready.notify_one();
  }

private:
  void work(std::stop_token Stop) {
    while (true) {
      std::function<void()> Task;
      {
        std::unique_lock<std::mutex> Lock(Mutex);
        if (!Ready.wait(Lock, Stop, [this] { return !Tasks.empty(); }))
          return; // stop requested
        Task = std::move(Tasks.front());
        Tasks.pop_front();
      }
      Task();
    }
  }

  std::mutex Mutex;
  std::condition_variable_any Ready;
  std::deque<std::function<void()>> Tasks;
  std::vector<std::jthread> Workers; // last: joined before the queue dies
};

void runPool() {
  WorkerPool Pool(2);
  Pool.submit([] {});
}

} // namespace service
