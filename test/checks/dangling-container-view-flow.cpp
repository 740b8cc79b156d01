// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t

// Flow sensitivity: paths, loops, the erase-returns-next idiom, and the
// notes that point at the invalidation and at the view.

#include <map>
#include <stdexcept>
#include <unordered_map>
#include <vector>

void sink(int);

void notes(std::vector<int> &V) {
  int *P = &V[0];
  V.push_back(1);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:5: note: 'V' may reallocate here
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

// Invalidation only on a path that leaves the function.
void invalidationOnReturnPath(std::vector<int> &V, bool Grow) {
  int *P = V.data();
  if (Grow) {
    V.push_back(1);
    return;
  }
  sink(*P);
}

void invalidationOnThrowPath(std::vector<int> &V, bool Bad) {
  int &X = V[0];
  if (Bad) {
    V.clear();
    throw std::runtime_error("bad");
  }
  sink(X);
}

// On one branch only, but the use follows both.
void invalidationOnOneBranch(std::vector<int> &V, bool Grow) {
  int *P = V.data();
  if (Grow)
    V.push_back(1);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:7: note: 'V' may reallocate here
  // CHECK-NOTES: :[[@LINE-6]]:8: note: view obtained here
}

// Re-taken on the invalidating branch.
void retakenOnBranch(std::vector<int> &V, bool Grow) {
  int *P = V.data();
  if (Grow) {
    V.push_back(1);
    P = V.data();
  }
  sink(*P);
}

// A range-for whose body grows the container.
void rangeForPushBack(std::vector<int> &V) {
  for (int X : V)
    if (X > 3)
      V.push_back(X - 1);
  // CHECK-NOTES: :[[@LINE-3]]:16: warning: range-for loop over 'V' goes on after 'V' may have reallocated; its hidden iterator is invalid
  // CHECK-NOTES: :[[@LINE-2]]:9: note: 'V' may reallocate here
}

// Leaving the loop right after the growth is fine.
void rangeForPushBackThenBreak(std::vector<int> &V) {
  for (int X : V) {
    if (X == 0) {
      V.push_back(1);
      break;
    }
  }
}

// The loop variable refers into the container too.
void rangeForReferenceUsedAfterGrowth(std::vector<int> &V) {
  for (int &X : V) {
    V.push_back(1);
    X = 0;
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: 'X' is used after 'V' may have reallocated
    // CHECK-NOTES: :[[@LINE-3]]:7: note: 'V' may reallocate here
    // CHECK-NOTES: :[[@LINE-5]]:13: note: view obtained here
    return;
  }
}

// Node-based containers: insertion while iterating is fine.
void rangeForOverMapInsert(std::map<int, int> &M) {
  for (auto &[K, V] : M)
    if (K < 0)
      M[-K] = V;
}

// Unordered: insertion may rehash under the loop.
void rangeForOverUnorderedInsert(std::unordered_map<int, int> &M) {
  for (auto &KV : M)
    if (KV.first < 0)
      M.emplace(-KV.first, KV.second);
  // CHECK-NOTES: :[[@LINE-3]]:19: warning: range-for loop over 'M' goes on after 'M' may have rehashed; its hidden iterator is invalid
  // CHECK-NOTES: :[[@LINE-2]]:9: note: 'M' may rehash here
}

// The erase-returns-next idiom.
void eraseReturnsNext(std::vector<int> &V) {
  for (auto It = V.begin(); It != V.end();) {
    if (*It == 0)
      It = V.erase(It);
    else
      ++It;
  }
}

void eraseReturnsNextMap(std::map<int, int> &M) {
  for (auto It = M.begin(); It != M.end();)
    if (It->second == 0)
      It = M.erase(It);
    else
      ++It;
}

// The node-container post-increment idiom.
void erasePostIncrement(std::map<int, int> &M) {
  for (auto It = M.begin(); It != M.end();)
    if (It->second == 0)
      M.erase(It++);
    else
      ++It;
}

// ... which is wrong for a vector: the following elements move.
void erasePostIncrementVector(std::vector<int> &V) {
  for (auto It = V.begin(); It != V.end();)
    if (*It == 0)
      V.erase(It++);
  // CHECK-NOTES: :[[@LINE-3]]:29: warning: 'It' is used after 'V' may have erased the element it refers to
  // CHECK-NOTES: :[[@LINE-2]]:9: note: the element may be erased here
  // CHECK-NOTES: :[[@LINE-5]]:13: note: view obtained here
    else
      ++It;
}

// erase(it) without taking the returned iterator.
void eraseWithoutReassign(std::map<int, int> &M) {
  for (auto It = M.begin(); It != M.end(); ++It)
    if (It->second == 0)
      M.erase(It);
  // CHECK-NOTES: :[[@LINE-3]]:46: warning: 'It' is used after 'M' may have erased the element it refers to
  // CHECK-NOTES: :[[@LINE-2]]:9: note: the element may be erased here
  // CHECK-NOTES: :[[@LINE-5]]:13: note: view obtained here
}

// The end iterator saved before a vector erase loop.
void savedEndAcrossErase(std::vector<int> &V) {
  auto End = V.end();
  for (auto It = V.begin(); It != End;)
    if (*It == 0)
      It = V.erase(It);
  // CHECK-NOTES: :[[@LINE-3]]:35: warning: 'End' is used after 'V' may have erased the element it refers to
  // CHECK-NOTES: :[[@LINE-2]]:14: note: the element may be erased here
  // CHECK-NOTES: :[[@LINE-6]]:8: note: view obtained here
    else
      ++It;
}

// ... fine for a map, whose end() stays valid.
void savedEndAcrossEraseMap(std::map<int, int> &M) {
  auto End = M.end();
  for (auto It = M.begin(); It != End;)
    if (It->second == 0)
      It = M.erase(It);
    else
      ++It;
}

// Grows at the end of one iteration, used at the start of the next.
void loopCarried(std::vector<int> &V, int N) {
  int &First = V[0];
  for (int I = 0; I < N; ++I) {
    sink(First);
    V.push_back(I);
  }
  // CHECK-NOTES: :[[@LINE-3]]:10: warning: 'First' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:7: note: 'V' may reallocate here
  // CHECK-NOTES: :[[@LINE-7]]:8: note: view obtained here
}

// Re-taken at the start of every iteration.
void loopRetaken(std::vector<int> &V, int N) {
  for (int I = 0; I < N; ++I) {
    int &Last = V.back();
    sink(Last);
    V.push_back(Last + 1);
  }
}

// while-loop with an iterator refreshed after growth.
void whileRefreshed(std::vector<int> &V) {
  auto It = V.begin();
  while (It != V.end()) {
    if (*It < 0) {
      V.push_back(-*It);
      It = V.begin();
      continue;
    }
    ++It;
  }
}
