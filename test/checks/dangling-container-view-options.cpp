// RUN: %check_concguard -std=c++20 -check-suffixes=COMMON,UNKNOWN %s concguard-dangling-container-view %t -- \
// RUN:   -config="{CheckOptions: {concguard-dangling-container-view.ContainerFamilies: 'lib::SmallVec=vector;MyDeque=deque'}}"
// RUN: %check_concguard -std=c++20 -check-suffixes=COMMON %s concguard-dangling-container-view %t -- \
// RUN:   -config="{CheckOptions: {concguard-dangling-container-view.ContainerFamilies: 'lib::SmallVec=vector, MyDeque = deque', concguard-dangling-container-view.AssumeUnknownCallsInvalidate: false}}"

// The options: user containers mapped onto a family, and whether a callee
// with no visible body may invalidate a container passed to it.

#include <vector>

void sink(int);

namespace lib {
template <typename T> class SmallVec {
public:
  T *data();
  T &operator[](unsigned I);
  T *begin();
  T *end();
  void push_back(const T &X);
  void clear();
  unsigned size() const;
};
} // namespace lib

template <typename T> class MyDeque {
public:
  struct iterator {
    T &operator*() const;
    iterator &operator++();
  };
  T &operator[](unsigned I);
  iterator begin();
  void push_back(const T &X);
  void insert(iterator Pos, const T &X);
};

// Same interface, not mapped: not a container for the check.
template <typename T> class Unmapped {
public:
  T *data();
  void push_back(const T &X);
};

void userVector(lib::SmallVec<int> &V) {
  int *P = V.data();
  V.push_back(1);
  sink(*P);
  // CHECK-MESSAGES-COMMON: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated [concguard-dangling-container-view]
}

void userVectorReference(lib::SmallVec<int> &V) {
  int &X = V[0];
  V.clear();
  sink(X);
  // CHECK-MESSAGES-COMMON: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have destroyed its elements
}

void userVectorReads(lib::SmallVec<int> &V) {
  int &X = V[0];
  sink(V.size());
  sink(X);
}

// Deque rules: references survive push_back, iterators do not.
void userDeque(MyDeque<int> &D) {
  int &X = D[0];
  auto It = D.begin();
  D.push_back(1);
  sink(X);
  sink(*It);
  // CHECK-MESSAGES-COMMON: :[[@LINE-1]]:9: warning: 'It' is used after 'D' may have reallocated
}

void userDequeMiddleInsert(MyDeque<int> &D) {
  int &X = D[0];
  D.insert(D.begin(), 1);
  sink(X);
  // CHECK-MESSAGES-COMMON: :[[@LINE-1]]:8: warning: 'X' is used after 'D' may have reallocated
}

void unmapped(Unmapped<int> &U) {
  int *P = U.data();
  U.push_back(1);
  sink(*P);
}

// AssumeUnknownCallsInvalidate: a body this translation unit cannot see.
void opaque(std::vector<int> &V);
void visible(std::vector<int> &V) { V.clear(); }

void unknownCall(std::vector<int> &V) {
  int *P = V.data();
  opaque(V);
  sink(*P);
  // CHECK-MESSAGES-UNKNOWN: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have been invalidated by a call
}

void visibleCall(std::vector<int> &V) {
  int *P = V.data();
  visible(V);
  sink(*P);
  // CHECK-MESSAGES-COMMON: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have destroyed its elements
}
