// RUN: %check_concguard -std=c++20 -check-suffix=DEFAULT %s concguard-unsynchronized-container %t -- \
// RUN:   -config="{CheckOptions: {concguard-unsynchronized-container.ContainerTypes: 'lib::SmallVec=vector', \
// RUN:     concguard-unsynchronized-container.MutexTypes: 'lib::SpinLock', \
// RUN:     concguard-unsynchronized-container.LockGuardTypes: 'lib::Guard', \
// RUN:     concguard-unsynchronized-container.SpawnFunctions: 'lib::spawn:0'}}" -- -isystem %runtime_include
// RUN: %check_concguard -std=c++20 -check-suffix=STRICT %s concguard-unsynchronized-container %t -- \
// RUN:   -config="{CheckOptions: {concguard-unsynchronized-container.StrictElementAccess: true, \
// RUN:     concguard-unsynchronized-container.ContainerTypes: 'lib::SmallVec=vector', \
// RUN:     concguard-unsynchronized-container.MutexTypes: 'lib::SpinLock', \
// RUN:     concguard-unsynchronized-container.LockGuardTypes: 'lib::Guard', \
// RUN:     concguard-unsynchronized-container.SpawnFunctions: 'lib::spawn:0'}}" -- -isystem %runtime_include
// The same facts as project-wide options (utils/CheckOptions.h), read by
// every check: the same findings.
// RUN: %check_concguard -std=c++20 -check-suffix=DEFAULT %s concguard-unsynchronized-container %t -- \
// RUN:   -config="{CheckOptions: {concguard.ContainerTypes: 'lib::SmallVec=vector', \
// RUN:     concguard.MutexTypes: 'lib::SpinLock', concguard.LockGuardTypes: 'lib::Guard', \
// RUN:     concguard.SpawnFunctions: 'lib::spawn:0'}}" -- -isystem %runtime_include

#include <map>
#include <string>
#include <thread>
#include <vector>

void use(std::size_t);
void mutate(std::vector<int> &V); // body not visible: may modify
void inspect(const std::vector<int> &V);

namespace lib {
template <typename T> class SmallVec {
public:
  void push_back(const T &) {}
  std::size_t size() const { return 0; }
};
class SpinLock {
public:
  void lock();
  void unlock();
};
class Guard {
public:
  explicit Guard(SpinLock &L) : L(L) { L.lock(); }
  ~Guard() { L.unlock(); }

private:
  SpinLock &L;
};
template <typename F> void spawn(F &&Body) { std::thread(Body).detach(); }
} // namespace lib

// Element writes race only with StrictElementAccess.
void elementWrites() {
  std::vector<int> Slots(4);
  std::map<int, std::vector<int>> Buckets{{1, {}}};
  std::thread T([&] {
    Slots[0] = 1;
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: 'Slots' is written here on the thread started at line [[@LINE-2]] while it is read in 'elementWrites'
    Buckets.at(1).push_back(2);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: 'Buckets' is written here on the thread started at line [[@LINE-4]] while it is read in 'elementWrites'
  });
  use(Slots[1]);
  use(Buckets.at(1).size());
  T.join();
}

// Passing by non-const reference to code we cannot see may modify it; a
// const reference only reads.
void unknownCallees() {
  std::vector<int> A, B;
  std::thread T([&] {
    mutate(A);
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: 'A' is modified here on the thread started at line [[@LINE-2]] while it is read in 'unknownCallees'
    // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'A' is modified here on the thread started at line [[@LINE-3]] while it is read in 'unknownCallees'
    inspect(B);
  });
  use(A.size());
  use(B.size());
  T.join();
}

// A user container mapped onto the vector family.
void userContainer() {
  lib::SmallVec<int> Values;
  std::thread T([&] { Values.push_back(1); });
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:23: warning: 'Values' is modified here on the thread started at line [[@LINE-1]] while it is read in 'userContainer'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:23: warning: 'Values' is modified here on the thread started at line [[@LINE-2]] while it is read in 'userContainer'
  use(Values.size());
  T.join();
}

// A project mutex and guard.
lib::SpinLock Spin;
std::vector<int> Guarded;

void projectLocks() {
  std::thread T([] {
    lib::Guard G(Spin);
    Guarded.push_back(1);
  });
  {
    lib::Guard G(Spin);
    use(Guarded.size());
  }
  T.join();
}

// A configured spawn function: the body runs on a thread that is never
// joined where it starts.
std::vector<std::string> Log;

void configuredSpawn() {
  lib::spawn([] { Log.push_back("tick"); });
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:19: warning: 'Log' is modified here on the thread started at line [[@LINE-1]] while it is read in 'configuredSpawn' after it starts the thread at line [[@LINE-1]]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:19: warning: 'Log' is modified here on the thread started at line [[@LINE-2]] while it is read in 'configuredSpawn' after it starts the thread at line [[@LINE-2]]
  use(Log.size());
}
// CHECK-FIXES-DEFAULT: concguard::synchronized<std::vector<std::string>> Log;
// CHECK-FIXES-DEFAULT: lib::spawn([] { Log.with_lock([&](auto &Log) { Log.push_back("tick"); }); });
// CHECK-FIXES-STRICT: concguard::synchronized<std::vector<std::string>> Log;
