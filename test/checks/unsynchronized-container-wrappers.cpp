// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Spawn wrappers inferred without the SpawnFunctions option: a function
// that hands its callable parameter to a thread start is itself a thread
// start for its callers, also through a second wrapper that hands the
// callable on. A function that joins or waits for the thread it starts runs
// the callable to completion and is no wrapper.

#include <functional>
#include <future>
#include <thread>
#include <utility>
#include <vector>

template <typename F> std::thread startThread(F &&Fn) {
  return std::thread(std::forward<F>(Fn));
}

void runDetached(std::function<void()> Fn) {
  std::thread Worker([Fn = std::move(Fn)] { Fn(); });
  Worker.detach();
}

// Two levels: hands the callable to runDetached.
template <typename F> void runLater(F Fn) { runDetached(Fn); }

template <typename F> auto startTask(F Fn) {
  return std::async(std::launch::async, Fn);
}

// Not wrappers: the thread is joined, the task waited for, before they
// return.
template <typename F> void runAndWait(F Fn) {
  std::thread Worker(Fn);
  Worker.join();
}
template <typename F> int computeNow(F Fn) {
  auto Result = std::async(std::launch::async, Fn);
  return Result.get();
}
// A local std::jthread joins at the end of the function.
template <typename F> void runScoped(F Fn) { std::jthread Worker(Fn); }

std::vector<int> Samples;

void sampleWhileRunning() {
  std::thread T = startThread([] { Samples.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: 'Samples' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'sampleWhileRunning' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Samples.push_back(2);
  T.join();
  Samples.push_back(3);
}

// Clean twin: joined before the submitter touches the vector.
void sampleAfterJoin() {
  std::thread T = startThread([] { Samples.push_back(4); });
  T.join();
  Samples.push_back(5);
}

std::vector<int> Results;

void resultWhileRunning() {
  auto F = startTask([] { Results.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'Results' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'resultWhileRunning' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Results.push_back(2);
  F.get();
}

// Clean twins: the future is waited for first; the non-wrappers run the
// callable to completion.
void resultAfterGet() {
  auto F = startTask([] { Results.push_back(3); });
  F.get();
  Results.push_back(4);
}

void notWrappers() {
  runAndWait([] { Results.push_back(5); });
  Results.push_back(6);
  computeNow([] {
    Results.push_back(7);
    return 7;
  });
  Results.push_back(8);
  runScoped([] { Results.push_back(9); });
  Results.push_back(10);
}

std::vector<int> Events;

// Through two wrappers to a detached thread, which outlives the function:
// every other function of the file may run beside it.
void fireAndForget() {
  runLater([] { Events.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'recordEvent', which may run concurrently with the thread started at line [[@LINE-1]] and never joined there, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
}

void recordEvent() { Events.push_back(2); }

// CHECK-FIXES: concguard::synchronized<std::vector<int>> Samples;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Results;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Events;
