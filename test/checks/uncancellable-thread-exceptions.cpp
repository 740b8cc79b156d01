// RUN: %check_concguard -std=c++20 %s concguard-uncancellable-thread %t

// A container of std::thread filled in a loop: when a later start throws
// (std::system_error when no thread can be created), the exception destroys
// the container while the threads already in it are joinable, and each of
// their destructors calls std::terminate.

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

void work();

class Pool {
public:
  explicit Pool(unsigned N) {
    while (N) {
      Workers.emplace_back(Worker(*this));
      // CHECK-NOTES: :[[@LINE-1]]:7: warning: if starting a thread here throws (std::system_error when no thread can be created), the threads already in 'Workers' are destroyed while joinable, which calls std::terminate; join them before the exception leaves, or hold std::jthread [concguard-uncancellable-thread]
      // CHECK-NOTES: :[[@LINE-3]]:5: note: threads are started in this loop
      // CHECK-NOTES: :[[@LINE+19]]:28: note: 'Workers' is destroyed when the constructor of 'Pool' exits by an exception; the destructor, which would join its threads, does not run
      --N;
    }
  }
  ~Pool() {
    for (std::thread &T : Workers)
      T.join();
  }

private:
  struct Worker {
    explicit Worker(Pool &Owner) : Owner(Owner) {}
    void operator()() {
      std::lock_guard<std::mutex> Lock(Owner.Mutex);
      work();
    }
    Pool &Owner;
  };
  std::mutex Mutex;
  std::vector<std::thread> Workers;
};

class ListPool {
public:
  ListPool() {
    for (int I = 0; I < 4; ++I)
      Threads.push_back(std::thread(work));
    // CHECK-NOTES: :[[@LINE-1]]:25: warning: if starting a thread here throws {{.*}} the threads already in 'Threads' are destroyed while joinable
    // CHECK-NOTES: :[[@LINE-3]]:5: note: threads are started in this loop
    // CHECK-NOTES: :[[@LINE+8]]:26: note: 'Threads' is destroyed when the constructor of 'ListPool' exits by an exception
  }
  ~ListPool() {
    for (std::thread &T : Threads)
      T.join();
  }

private:
  std::list<std::thread> Threads;
};

void localContainer(int N) {
  std::vector<std::thread> Threads;
  for (int I = 0; I < N; ++I)
    Threads.emplace_back([] { work(); });
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: if starting a thread here throws {{.*}} the threads already in 'Threads' are destroyed while joinable
  // CHECK-NOTES: :[[@LINE-3]]:3: note: threads are started in this loop
  // CHECK-NOTES: :[[@LINE-5]]:28: note: 'Threads' is destroyed while the exception unwinds the function
  for (std::thread &T : Threads)
    T.join();
}

// Clean twins.

class GuardedPool {
public:
  // The handler joins what was started and rethrows.
  explicit GuardedPool(unsigned N) {
    try {
      for (unsigned I = 0; I < N; ++I)
        Workers.emplace_back(work);
    } catch (...) {
      for (std::thread &T : Workers)
        T.join();
      throw;
    }
  }
  ~GuardedPool() {
    for (std::thread &T : Workers)
      T.join();
  }

private:
  std::vector<std::thread> Workers;
};

class FunctionTryPool {
public:
  FunctionTryPool() try {
    for (int I = 0; I < 2; ++I)
      Workers.emplace_back(work);
  } catch (...) {
    for (std::thread &T : Workers)
      if (T.joinable())
        T.join();
  }
  ~FunctionTryPool() {
    for (std::thread &T : Workers)
      T.join();
  }

private:
  std::vector<std::thread> Workers;
};

class LazyPool {
public:
  // Filled outside the constructor: the object outlives the exception and
  // its destructor joins whatever started.
  void start(int N) {
    for (int I = 0; I < N; ++I)
      Workers.emplace_back(work);
  }
  ~LazyPool() {
    for (std::thread &T : Workers)
      T.join();
  }

private:
  std::vector<std::thread> Workers;
};

class JoiningPool {
public:
  // std::jthread joins in its destructor.
  JoiningPool() {
    for (int I = 0; I < 2; ++I)
      Workers.emplace_back(work);
  }

private:
  std::vector<std::jthread> Workers;
};

void oneThreadPerIteration(int N) {
  for (int I = 0; I < N; ++I) {
    std::vector<std::thread> One;
    One.emplace_back(work);
    One.back().join();
  }
}

void singleStart() {
  std::vector<std::thread> Threads;
  Threads.emplace_back(work);
  Threads.front().join();
}

// A container of objects built from a callable starts no thread (rocksdb's
// VersionSet::LogAndApply fills a std::deque<ManifestWriter> from callbacks).
struct Writer {
  Writer(std::mutex *Mu, int Column, const std::function<void()> &Done)
      : Done(Done) {}
  std::function<void()> Done;
};

void writersFromCallbacks(std::mutex *Mu, int N,
                          std::vector<std::function<void()>> &Callbacks) {
  std::deque<Writer> Writers;
  for (int I = 0; I < N; ++I) {
    const auto Done = Callbacks.empty() ? [] {} : Callbacks[I];
    Writers.emplace_back(Mu, I, Done);
  }
}
