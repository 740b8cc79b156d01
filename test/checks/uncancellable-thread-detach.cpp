// RUN: %check_concguard -std=c++20 -check-suffix=ON %s concguard-uncancellable-thread %t
// RUN: %check_concguard -std=c++20 -check-suffix=OFF %s concguard-uncancellable-thread %t -- \
// RUN:   -config="{CheckOptions: {concguard-uncancellable-thread.ReportDetach: false}}"

// detach() and pthread_detach() lose the only handle on a thread
// (C++ Core Guidelines CP.26). Option ReportDetach turns this part off.

#include <pthread.h>
#include <thread>

void work();
void *entry(void *);

void detachLocal() {
  std::thread t(work);
  t.detach();
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined: keep the handle and join it, or use std::jthread (C++ Core Guidelines CP.26) [concguard-uncancellable-thread]
}

void detachTemporary() {
  std::thread(work).detach();
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
}

void detachJThread() {
  std::jthread t(work);
  t.detach();
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
}

void detachPthread() {
  pthread_t T;
  pthread_create(&T, nullptr, entry, nullptr);
  pthread_detach(T);
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
}

// The endless-loop part stays on when ReportDetach is off.
void detachEndless() {
  // CHECK-MESSAGES-ON: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-OFF: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    while (true)
      work();
  });
  t.detach();
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
}

// Not std::thread: a user type's detach() is not reported.
struct Task {
  void detach();
};
void userDetach(Task &T) { T.detach(); }

// A portability wrapper that only detaches the thread it is handed (rocksdb's
// toku_pthread_detach): its callers decide, so they are reported, not it.
static inline int portableDetach(pthread_t T) { return pthread_detach(T); }
void detachHandle(std::thread &T) { T.detach(); }

void detachThroughWrappers() {
  pthread_t P;
  pthread_create(&P, nullptr, entry, nullptr);
  portableDetach(P);
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
  std::thread T(work);
  detachHandle(T);
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
}

// A function that does more than detach is reported where it detaches.
void detachAndCount(std::thread &T, int &Count) {
  T.detach();
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: detached thread can be neither stopped nor joined
  ++Count;
}

// Known limitation, reduced from rocksdb's ThreadPoolImpl::BGThread: an
// excess pool thread detaches its own handle and returns right after, so
// nothing is left running; the check cannot tell which thread runs the
// detach and still reports it (docs: Limitations).
#include <mutex>
#include <vector>
class ShrinkingPool {
public:
  void worker(std::size_t Id) {
    std::unique_lock<std::mutex> Lock(Mu);
    if (Id + 1 == Threads.size()) {
      Threads.back().detach();
      // CHECK-MESSAGES-ON: :[[@LINE-1]]:7: warning: detached thread can be neither stopped nor joined
      Threads.pop_back();
      return;
    }
  }

private:
  std::mutex Mu;
  std::vector<std::thread> Threads;
};
