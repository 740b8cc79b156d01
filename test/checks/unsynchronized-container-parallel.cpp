// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -isystem %runtime_include

// The body of a parallel algorithm runs on several threads at once: a
// standard algorithm given std::execution::par or par_unseq, and TBB's
// parallel_for and parallel_for_each. The call returns when every thread
// is done, so the caller's own code is ordered with the body; the body
// races with itself. Tasks run by a tbb::task_group run until its wait().
// Needs oneTBB's headers (tools/deps/thread-libraries.txt).

#include <algorithm>
#include <execution>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_for_each.h>
#include <tbb/task_group.h>

//===--- Standard parallel algorithms -------------------------------------===//

// Every thread of the algorithm appends to one vector.
std::vector<int> squaresOf(const std::vector<int> &In) {
  std::vector<int> Out;
  std::for_each(std::execution::par, In.begin(), In.end(),
                [&Out](int X) { Out.push_back(X * X); });
  // CHECK-NOTES: :[[@LINE-1]]:33: warning: 'Out' is modified here on the thread started at line [[@LINE-2]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  // CHECK-NOTES-COUNT-4: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE-4]]:3: note: thread started here
  // CHECK-NOTES: :[[@LINE-6]]:20: note: 'Out' declared here
  return Out;
}

// A map filled through the unsequenced parallel policy, by a functor.
struct Tally {
  std::map<std::string, int> &Counts;
  void operator()(const std::string &Word) const { ++Counts[Word]; }
  // CHECK-NOTES: :[[@LINE-1]]:54: warning: 'Counts' is modified here on the thread started at line [[@LINE+7]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  // CHECK-NOTES: :[[@LINE+6]]:3: note: thread started here
  // CHECK-NOTES: :[[@LINE-4]]:31: note: 'Counts' declared here
  // CHECK-NOTES: :[[@LINE-5]]:31: note: concguard-rewrite cannot rewrite 'Counts': it is a reference or const
};
std::map<std::string, int> tally(const std::vector<std::string> &Words) {
  std::map<std::string, int> Counts;
  std::for_each(std::execution::par_unseq, Words.begin(), Words.end(),
                Tally{Counts});
  return Counts;
}

// Clean: each thread writes its own element; the caller reads after the
// algorithm returns.
std::vector<int> doubled(std::vector<int> In) {
  std::vector<int> Out(In.size());
  std::transform(std::execution::par, In.begin(), In.end(), Out.begin(),
                 [](int X) { return 2 * X; });
  std::for_each(std::execution::par, In.begin(), In.end(),
                [](int &X) { X += 1; });
  Out.push_back(0);
  return Out;
}

// Clean: the body holds a mutex around the shared vector.
std::vector<int> lockedSquares(const std::vector<int> &In) {
  std::vector<int> Out;
  std::mutex Mu;
  std::for_each(std::execution::par, In.begin(), In.end(), [&](int X) {
    std::lock_guard<std::mutex> Lock(Mu);
    Out.push_back(X * X);
  });
  return Out;
}

// Clean: the sequential policies run the body on the calling thread.
std::set<int> sequential(const std::vector<int> &In) {
  std::set<int> Seen;
  std::for_each(std::execution::seq, In.begin(), In.end(),
                [&Seen](int X) { Seen.insert(X); });
  std::for_each(In.begin(), In.end(), [&Seen](int X) { Seen.erase(X); });
  return Seen;
}

// Clean: the functor's own vector is copied for each task; only what it
// refers to is shared.
struct Collector {
  std::vector<int> Seen;
  void operator()(int X) { Seen.push_back(X); }
};
void collect(const std::vector<int> &In) {
  std::for_each(std::execution::par, In.begin(), In.end(), Collector{});
}

// Clean: the body only reads the vector, and the caller writes it after the
// algorithm returns (nothing of the caller runs beside the body).
std::vector<int> readThenGrow(const std::vector<int> &In) {
  std::vector<int> Out(In);
  std::for_each(std::execution::par, In.begin(), In.end(),
                [&Out](int) { (void)Out.size(); });
  Out.push_back(0);
  return Out;
}

// Clean: the body only reads the shared set.
int hits(const std::vector<int> &In, const std::set<int> &Wanted) {
  return static_cast<int>(std::count_if(
      std::execution::par, In.begin(), In.end(),
      [&Wanted](int X) { return Wanted.count(X) > 0; }));
}

//===--- TBB ---------------------------------------------------------------===//

class Index {
public:
  // parallel_for over a blocked range, on a member.
  void build(const std::vector<int> &Keys) {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, Keys.size()),
                      [&](const tbb::blocked_range<size_t> &R) {
                        for (size_t I = R.begin(); I != R.end(); ++I)
                          Buckets[Keys[I] % 16].push_back(Keys[I]);
                      });
    // CHECK-NOTES: :[[@LINE-2]]:27: warning: 'Buckets' is modified here on the thread started at line [[@LINE-5]] while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    // CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE-7]]:5: note: thread started here
    // CHECK-NOTES: :[[@LINE+16]]:35: note: 'Buckets' declared here
  }

  // Clean: parallel_for over indices, each writing its own element.
  void scale(std::vector<double> &Values, double Factor) {
    tbb::parallel_for(size_t(0), Values.size(),
                      [&](size_t I) { Values[I] *= Factor; });
  }

  // Clean: parallel_for_each over the elements, each its own.
  void clearAll(std::vector<std::vector<int>> &Lists) {
    tbb::parallel_for_each(Lists.begin(), Lists.end(),
                           [](std::vector<int> &List) { List.clear(); });
  }

private:
  std::map<int, std::vector<int>> Buckets;
};

// Two tasks of one task_group write one vector before its wait().
std::vector<int> gather() {
  std::vector<int> Found;
  tbb::task_group Group;
  Group.run([&Found] { Found.push_back(1); });
  // CHECK-NOTES: :[[@LINE-1]]:24: warning: 'Found' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  // CHECK-NOTES-COUNT-5: note: FIX-IT applied suggested code changes
  // CHECK-NOTES: :[[@LINE+3]]:24: note: modified here
  // CHECK-NOTES: :[[@LINE-4]]:3: note: thread started here
  // CHECK-NOTES: :[[@LINE-7]]:20: note: 'Found' declared here
  Group.run([&Found] { Found.push_back(2); });
  Group.wait();
  Found.push_back(3);
  return Found;
}

// Clean: one task, and the caller touches the vector only after wait().
std::vector<int> gatherOne() {
  std::vector<int> Found;
  tbb::task_group Group;
  Group.run([&Found] { Found.push_back(1); });
  Group.wait();
  Found.push_back(2);
  return Found;
}

// The fix-its: a concguard::synchronized vector and a concurrent map, every
// use through them (compiled by the test).
// CHECK-FIXES: #include <concguard/synchronized.hpp>
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Out;
// CHECK-FIXES: [&Out](int X) { Out.with_lock([&](auto &Out) { Out.push_back(X * X); }); });
// CHECK-FIXES: return Out.with_lock([&](auto &Out) { return Out; });
// CHECK-FIXES: Buckets.upsert(Keys[I] % 16, [&](auto &value) { value.push_back(Keys[I]); });
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Buckets;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Found;
// CHECK-FIXES: Group.run([&Found] { Found.with_lock([&](auto &Found) { Found.push_back(1); }); });
// CHECK-FIXES: Group.run([&Found] { Found.with_lock([&](auto &Found) { Found.push_back(2); }); });
// CHECK-FIXES: Found.with_lock([&](auto &Found) { Found.push_back(3); });
// CHECK-FIXES: return Found.with_lock([&](auto &Found) { return Found; });
