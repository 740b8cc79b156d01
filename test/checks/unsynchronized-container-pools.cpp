// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Thread pools inferred by their shape, with no configuration: a class whose
// worker threads take callables out of a member queue and call them, and a
// method that puts its callable parameter into that queue. Each call of that
// method submits a task, which runs beside the submitting function until
// something ends it (the pool's wait or shutdown, the future the submit
// returned, the pool's destruction) and beside the other tasks of the pool
// unless the pool has a single worker. The pool's own queue is guarded by
// its mutex. Three shapes of real header-only pools: cpp-httplib's
// ThreadPool (behind an abstract TaskQueue), the classic "ThreadPool.h"
// whose enqueue returns a std::future, and BS::thread_pool's
// push_task/submit/wait_for_tasks.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

//===--- cpp-httplib's shape ----------------------------------------------===//

namespace httplib {
class TaskQueue {
public:
  virtual ~TaskQueue() = default;
  virtual void enqueue(std::function<void()> fn) = 0;
  virtual void shutdown() = 0;
};

class ThreadPool : public TaskQueue {
public:
  explicit ThreadPool(size_t n) : shutdown_(false) {
    while (n) {
      threads_.emplace_back(worker(*this));
      n--;
    }
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(fn));
    }
    cond_.notify_one();
  }
  void shutdown() override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (auto &t : threads_)
      t.join();
  }

private:
  struct worker {
    explicit worker(ThreadPool &pool) : pool_(pool) {}
    void operator()() {
      for (;;) {
        std::function<void()> fn;
        {
          std::unique_lock<std::mutex> lock(pool_.mutex_);
          pool_.cond_.wait(
              lock, [&] { return !pool_.jobs_.empty() || pool_.shutdown_; });
          if (pool_.shutdown_ && pool_.jobs_.empty())
            break;
          fn = std::move(pool_.jobs_.front());
          pool_.jobs_.pop_front();
        }
        fn();
      }
    }
    ThreadPool &pool_;
  };
  friend struct worker;
  std::vector<std::thread> threads_;
  std::list<std::function<void()>> jobs_;
  bool shutdown_;
  std::condition_variable cond_;
  std::mutex mutex_;
};
} // namespace httplib

std::vector<int> Connections;

// Tasks submitted in a loop run beside each other on the pool's workers.
void acceptLoop(int N) {
  std::unique_ptr<httplib::TaskQueue> queue(new httplib::ThreadPool(8));
  for (int I = 0; I < N; ++I)
    queue->enqueue([I] { Connections.push_back(I); });
    // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'Connections' is modified here on the thread started at line [[@LINE-1]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  queue->shutdown();
}

// The submitter touches the vector while the task may still run.
void countWhileServing() {
  std::unique_ptr<httplib::TaskQueue> queue(new httplib::ThreadPool(8));
  queue->enqueue([] { Connections.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'Connections' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'countWhileServing' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Connections.push_back(2);
  queue->shutdown();
}

// Clean twin: the submitter touches it only after shutdown() joined the
// workers.
void countAfterShutdown() {
  std::unique_ptr<httplib::TaskQueue> queue(new httplib::ThreadPool(8));
  queue->enqueue([] { Connections.push_back(3); });
  queue->shutdown();
  Connections.push_back(4);
}

//===--- the classic ThreadPool.h -----------------------------------------===//

class ThreadPool {
public:
  ThreadPool(size_t);
  template <class F, class... Args>
  auto enqueue(F &&f, Args &&...args)
      -> std::future<typename std::invoke_result<F, Args...>::type>;
  ~ThreadPool();

private:
  std::vector<std::thread> workers;
  std::queue<std::function<void()>> tasks;
  std::mutex queue_mutex;
  std::condition_variable condition;
  bool stop;
};

inline ThreadPool::ThreadPool(size_t threads) : stop(false) {
  for (size_t i = 0; i < threads; ++i)
    workers.emplace_back([this] {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock<std::mutex> lock(this->queue_mutex);
          this->condition.wait(
              lock, [this] { return this->stop || !this->tasks.empty(); });
          if (this->stop && this->tasks.empty())
            return;
          task = std::move(this->tasks.front());
          this->tasks.pop();
        }
        task();
      }
    });
}

template <class F, class... Args>
auto ThreadPool::enqueue(F &&f, Args &&...args)
    -> std::future<typename std::invoke_result<F, Args...>::type> {
  using return_type = typename std::invoke_result<F, Args...>::type;
  auto task = std::make_shared<std::packaged_task<return_type()>>(
      std::bind(std::forward<F>(f), std::forward<Args>(args)...));
  std::future<return_type> res = task->get_future();
  {
    std::unique_lock<std::mutex> lock(queue_mutex);
    if (stop)
      throw std::runtime_error("enqueue on stopped ThreadPool");
    tasks.emplace([task]() { (*task)(); });
  }
  condition.notify_one();
  return res;
}

inline ThreadPool::~ThreadPool() {
  {
    std::unique_lock<std::mutex> lock(queue_mutex);
    stop = true;
  }
  condition.notify_all();
  for (std::thread &worker : workers)
    worker.join();
}

std::map<int, int> Totals;

int totalWhileRunning() {
  ThreadPool pool(4);
  auto result = pool.enqueue([] {
    Totals[1] += 1;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Totals' is modified here on the thread started at line [[@LINE-2]] while it is modified in 'totalWhileRunning' after it starts the thread at line [[@LINE-2]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    return 1;
  });
  Totals[2] = 2;
  return result.get();
}

// Clean twin: the submitter waits for the future first.
int totalAfterGet() {
  ThreadPool pool(4);
  auto result = pool.enqueue([] {
    Totals[3] += 1;
    return 1;
  });
  int value = result.get();
  Totals[4] = value;
  return value;
}

// Futures kept in a vector and waited for in a loop: the tasks race with
// each other, the submitter's clear() after the loop does not.
void fillInParallel() {
  ThreadPool pool(4);
  std::vector<std::future<void>> results;
  for (int i = 0; i < 8; ++i)
    results.emplace_back(pool.enqueue([i] { Totals[i] = i; }));
    // CHECK-MESSAGES: :[[@LINE-1]]:45: warning: 'Totals' is modified here on the thread started at line [[@LINE-1]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  for (auto &r : results)
    r.get();
  Totals.clear();
}

// Clean: the pool is destroyed (its destructor joins the workers) before
// the submitter reads on.
void scopedPool() {
  {
    ThreadPool pool(2);
    pool.enqueue([] { Totals[5] = 5; });
  }
  Totals.erase(5);
}

//===--- BS::thread_pool --------------------------------------------------===//

namespace BS {
class thread_pool {
public:
  explicit thread_pool(unsigned n)
      : thread_count(n), threads(std::make_unique<std::thread[]>(n)) {
    create_threads();
  }
  ~thread_pool() {
    wait_for_tasks();
    destroy_threads();
  }
  template <typename F, typename... A> void push_task(F &&task, A &&...args) {
    std::function<void()> task_function =
        std::bind(std::forward<F>(task), std::forward<A>(args)...);
    {
      const std::scoped_lock tasks_lock(tasks_mutex);
      tasks.push(task_function);
    }
    ++tasks_total;
    task_available_cv.notify_one();
  }
  template <typename F, typename... A,
            typename R = std::invoke_result_t<std::decay_t<F>,
                                              std::decay_t<A>...>>
  std::future<R> submit(F &&task, A &&...args) {
    std::function<R()> task_function =
        std::bind(std::forward<F>(task), std::forward<A>(args)...);
    std::shared_ptr<std::promise<R>> task_promise =
        std::make_shared<std::promise<R>>();
    push_task([task_function, task_promise] {
      if constexpr (std::is_void_v<R>) {
        task_function();
        task_promise->set_value();
      } else {
        task_promise->set_value(task_function());
      }
    });
    return task_promise->get_future();
  }
  void wait_for_tasks() {
    waiting = true;
    std::unique_lock<std::mutex> tasks_lock(tasks_mutex);
    task_done_cv.wait(tasks_lock, [this] { return (tasks_total == 0); });
    waiting = false;
  }

private:
  void create_threads() {
    running = true;
    for (unsigned i = 0; i < thread_count; ++i)
      threads[i] = std::thread(&thread_pool::worker, this);
  }
  void destroy_threads() {
    running = false;
    task_available_cv.notify_all();
    for (unsigned i = 0; i < thread_count; ++i)
      threads[i].join();
  }
  void worker() {
    while (running) {
      std::function<void()> task;
      std::unique_lock<std::mutex> tasks_lock(tasks_mutex);
      task_available_cv.wait(tasks_lock,
                             [this] { return !tasks.empty() || !running; });
      if (running) {
        task = std::move(tasks.front());
        tasks.pop();
        tasks_lock.unlock();
        task();
        tasks_lock.lock();
        --tasks_total;
        if (waiting)
          task_done_cv.notify_one();
      }
    }
  }
  std::atomic<bool> running = false;
  std::condition_variable task_available_cv = {};
  std::condition_variable task_done_cv = {};
  std::queue<std::function<void()>> tasks = {};
  std::atomic<size_t> tasks_total = 0;
  mutable std::mutex tasks_mutex = {};
  unsigned thread_count = 0;
  std::unique_ptr<std::thread[]> threads = nullptr;
  std::atomic<bool> waiting = false;
};
} // namespace BS

std::vector<int> Log;

void logWhileRunning(BS::thread_pool &pool) {
  pool.push_task([] { Log.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'Log' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'logWhileRunning' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Log.push_back(2);
  pool.wait_for_tasks();
}

// Two tasks of one pool with several workers run at the same time.
void twoTasks(BS::thread_pool &pool) {
  pool.push_task([] { Log.push_back(3); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'Log' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  pool.push_task([] { Log.push_back(4); });
  pool.wait_for_tasks();
}

// Clean twins: wait_for_tasks() and the future of submit() order the task
// before what follows.
void logAfterWait(BS::thread_pool &pool) {
  pool.push_task([] { Log.push_back(5); });
  pool.wait_for_tasks();
  Log.push_back(6);
}

void logAfterGet(BS::thread_pool &pool) {
  std::future<int> F = pool.submit([] {
    Log.push_back(7);
    return 7;
  });
  int Value = F.get();
  Log.push_back(Value);
}

// submit() hands its task to push_task(): it submits too.
void submitWhileRunning(BS::thread_pool &pool) {
  std::future<void> F = pool.submit([] { Log.push_back(8); });
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'Log' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'submitWhileRunning' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Log.push_back(9);
  F.wait();
}

//===--- a pool with one worker thread ------------------------------------===//

class SerialQueue {
public:
  SerialQueue() : Worker([this] { run(); }) {}
  ~SerialQueue() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Done = true;
    }
    Cv.notify_all();
    Worker.join();
  }
  void post(std::function<void()> Job) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Jobs.push_back(std::move(Job));
    Cv.notify_one();
  }

private:
  void run() {
    for (;;) {
      std::function<void()> Job;
      {
        std::unique_lock<std::mutex> Lock(Mutex);
        Cv.wait(Lock, [this] { return Done || !Jobs.empty(); });
        if (Jobs.empty())
          return;
        Job = std::move(Jobs.front());
        Jobs.pop_front();
      }
      Job();
    }
  }
  std::mutex Mutex;
  std::condition_variable Cv;
  std::deque<std::function<void()>> Jobs;
  bool Done = false;
  std::thread Worker;
};

std::vector<int> Order;

// Clean: one worker runs the tasks one after another.
void serialTasks(SerialQueue &Queue) {
  Queue.post([] { Order.push_back(1); });
  Queue.post([] { Order.push_back(2); });
}

// The single worker still runs beside the submitter.
void serialWhileSubmitting(SerialQueue &Queue) {
  Queue.post([] { Order.push_back(3); });
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: 'Order' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'serialWhileSubmitting' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Order.push_back(4);
}

//===--- not pools --------------------------------------------------------===//

// Callables stored for later, never taken out by a thread: no task.
class Observers {
public:
  void add(std::function<void()> Callback) { Callbacks.push_back(Callback); }
  void notify() {
    for (auto &Callback : Callbacks)
      Callback();
  }

private:
  std::vector<std::function<void()>> Callbacks;
};

void observe(Observers &O) {
  O.add([] { Order.push_back(5); });
  Order.push_back(6);
}

// A method that submits and waits for its task is no submit.
class SyncRunner {
public:
  void runNow(std::function<void()> Fn) {
    auto Result = Pool.enqueue(std::move(Fn));
    Result.get();
  }

private:
  ThreadPool Pool{2};
};

void runSynchronously(SyncRunner &Runner) {
  Runner.runNow([] { Order.push_back(7); });
  Order.push_back(8);
}

// The fix-its guard the racy globals (checked here only for their
// declarations; the unsynchronized-container fix-it tests cover the rest).
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Connections;
// CHECK-FIXES: concguard::snapshot_map<int, int, std::map<int, int>> Totals;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Log;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Order;
