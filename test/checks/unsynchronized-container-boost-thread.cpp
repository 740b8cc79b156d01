// RUN: env CPLUS_INCLUDE_PATH=%concguard_src/tools/common/boost-compat \
// RUN:   %check_concguard -std=c++17 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -isystem %runtime_include

// boost::thread starts a thread as std::thread does (a callable and its
// arguments, boost::bind, a member function with its object), joined by
// join() or its timed joins; boost::thread_group::create_thread starts a
// thread of the group, joined by join_all(). Needs Boost 1.74
// (tools/deps/boost.txt).

#include <boost/bind/bind.hpp>
#include <boost/thread/lock_guard.hpp>
#include <boost/thread/mutex.hpp>
#include <boost/thread/thread.hpp>

#include <map>
#include <string>
#include <vector>

using Index = std::map<int, std::vector<int>>;

Index Shared;

void fill() { Shared[1].push_back(1); }
// CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'Shared' is modified here on the thread started at line [[@LINE+4]] while it is modified in 'beside' after it starts the thread at line [[@LINE+4]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

// The thread and its spawner write the same map.
void beside() {
  boost::thread Worker(fill);
  Shared.erase(1);
  Worker.join();
}

// With thread attributes first (a stack size), the callable comes second.
void withAttributes(std::vector<int> &Sizes) {
  boost::thread::attributes Attrs;
  Attrs.set_stack_size(1 << 20);
  boost::thread Worker(Attrs, [&Sizes] { Sizes.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'Sizes' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'withAttributes' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Sizes.clear();
  Worker.join();
}

// Clean: the same after the join.
void withAttributesJoined(std::vector<int> &Sizes) {
  boost::thread::attributes Attrs;
  boost::thread Worker(Attrs, [&Sizes] { Sizes.push_back(1); });
  Worker.join();
  Sizes.clear();
}

// Clean: the spawner writes after the join.
void afterJoin() {
  boost::thread Worker(fill);
  Worker.join();
  Shared.erase(1);
}

// Clean: after a timed join (what follows decides what a failed one means).
void afterTimedJoin() {
  boost::thread Worker(fill);
  Worker.try_join_for(boost::chrono::seconds(1));
  Shared.erase(1);
}

// Two threads of a group, started in a loop, write one map.
void group(Index &Counts) {
  boost::thread_group Threads;
  for (int I = 0; I < 2; ++I)
    Threads.create_thread([&Counts, I] { Counts[I].push_back(I); });
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'Counts' is modified here on the thread started at line [[@LINE-1]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Threads.join_all();
}

// Clean: one thread of the group, and the caller reads after join_all().
int groupJoined() {
  Index Counts;
  boost::thread_group Threads;
  Threads.create_thread([&Counts] { Counts[1].push_back(1); });
  Threads.join_all();
  return static_cast<int>(Counts.size());
}

std::vector<int> Totals;
void total() { Totals.push_back(1); }

// Clean: a thread added to a group with add_thread, and a group held through
// a pointer: join_all() joins them before the writes.
void addedToGroup(boost::thread_group *Group) {
  boost::thread_group Threads;
  Threads.add_thread(new boost::thread(total));
  Threads.join_all();
  Totals.clear();
  Group->create_thread(total);
  Group->join_all();
  Totals.clear();
}

// A member thread on `this`, through boost::bind: the class's other member
// functions run beside it.
class Service {
public:
  void start() { Worker = boost::thread(boost::bind(&Service::run, this)); }
  void stop() { Worker.join(); }
  void add(const std::string &Name) { Names[Name] = 1; }

private:
  void run() { Names.clear(); }
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'Names' is modified here on the thread started at line [[@LINE-6]] while it is modified in 'Service::add', which may run concurrently with the thread started at line [[@LINE-6]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  boost::thread Worker;
  std::map<std::string, int> Names;
};

// Clean: both sides hold a boost::mutex.
class LockedService {
public:
  void start() { Worker = boost::thread(&LockedService::run, this); }
  void stop() { Worker.join(); }
  void add(const std::string &Name) {
    boost::lock_guard<boost::mutex> Lock(Mu);
    Names[Name] = 1;
  }

private:
  void run() {
    boost::lock_guard<boost::mutex> Lock(Mu);
    Names.clear();
  }
  boost::thread Worker;
  boost::mutex Mu;
  std::map<std::string, int> Names;
};

// The fix-its (compiled by the test).
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Shared;
// CHECK-FIXES: void fill() { Shared.upsert(1, [&](auto &value) { value.push_back(1); }); }
// CHECK-FIXES: void group(concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> &Counts) {
// CHECK-FIXES: Threads.create_thread([&Counts, I] { Counts.upsert(I, [&](auto &value) { value.push_back(I); }); });
// CHECK-FIXES: void add(const std::string &Name) { Names.insert_or_assign(Name, 1); }
// CHECK-FIXES: concguard::snapshot_map<std::string, int, std::map<std::string, int>> Names;
