// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// std::async tasks whose futures are kept in a container and waited for in
// a loop: statements after the loop are ordered after every task.

#include <future>
#include <map>
#include <mutex>
#include <vector>

std::map<int, int> Totals;
void addTotal(int I) { Totals[I] = I; }
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'Totals' is modified here on the thread started at line 19 while another thread started at the same line may access it too, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
// CHECK-MESSAGES: :[[@LINE-2]]:24: warning: 'Totals' is modified here on the thread started at line 19 while it is modified in 'fillBeforeWaiting' after it starts the thread at line 19, with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

void fillBeforeWaiting() {
  std::vector<std::future<void>> Futures;
  for (int I = 0; I < 4; ++I)
    Futures.push_back(std::async(std::launch::async, addTotal, I));
  Totals[9] = 9;
  for (auto &F : Futures)
    F.get();
}

std::mutex CountsMutex;
std::map<int, int> Counts;
void addCount(int I) {
  std::lock_guard<std::mutex> Lock(CountsMutex);
  Counts[I] = I;
}

// The clean twin: the tasks lock, and the write after the waits is ordered
// after all of them.
void fillAfterWaiting() {
  std::vector<std::future<void>> Futures;
  for (int I = 0; I < 4; ++I)
    Futures.emplace_back(std::async(std::launch::async, addCount, I));
  for (auto &F : Futures)
    F.wait();
  Counts[9] = 9;
}

// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES: concguard::snapshot_map<int, int, std::map<int, int>> Totals;
// CHECK-FIXES: void addTotal(int I) { Totals.insert_or_assign(I, I); }
// CHECK-FIXES: Totals.insert_or_assign(9, 9);
