// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t

// Inputs that must not crash or mislead the analysis: templates, macros,
// pruned CFG edges, recursion, exceptions, switch, goto, virtual calls.

#include <stdexcept>
#include <vector>

void sink(int);

// Reported once, although instantiated twice.
template <typename T> T firstAfterGrowth(std::vector<T> &V) {
  T &X = V[0];
  V.push_back(T());
  return X;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: 'X' is used after 'V' may have reallocated [concguard-dangling-container-view]
}
template int firstAfterGrowth(std::vector<int> &);
template long firstAfterGrowth(std::vector<long> &);

// A dependent container is not analysed until instantiated.
template <typename C> void uninstantiated(C &Container) {
  auto &X = Container[0];
  Container.push_back(X);
  sink(X);
}

#define GROW(v) (v).push_back(1)

void growthInMacro(std::vector<int> &V) {
  int *P = V.data();
  GROW(V);
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
}

// Pruned edges: constant conditions.
void constantConditions(std::vector<int> &V) {
  int *P = V.data();
  if (false)
    V.push_back(1);
  while (true) {
    if (V.size() > 3)
      break;
    sink(*P);
  }
  if (sizeof(int) == 0)
    V.clear();
  sink(*P);
}

void unreachableAfterReturn(std::vector<int> &V) {
  int &X = V[0];
  sink(X);
  return;
  V.push_back(1);
  sink(X);
}

// Recursion through a summary.
void recursive(std::vector<int> &V, int N) {
  if (N > 0) {
    V.push_back(N);
    recursive(V, N - 1);
  }
}

void callsRecursive(std::vector<int> &V) {
  int &X = V[0];
  recursive(V, 3);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have reallocated
}

// Exceptions: the growth is in the try block; the handler uses the view.
void tryCatch(std::vector<int> &V) {
  int &X = V[0];
  try {
    V.push_back(1);
  } catch (const std::exception &) {
  }
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have reallocated
}

int switchCases(std::vector<int> &V, int K) {
  int *P = V.data();
  switch (K) {
  case 0:
    V.push_back(0);
    return 0;
  case 1:
    P = V.data();
    break;
  default:
    break;
  }
  return *P;
}

void gotoLoop(std::vector<int> &V) {
  int *P = V.data();
again:
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  if (V.size() < 10) {
    V.push_back(1);
    goto again;
  }
}

struct Base {
  virtual void update(std::vector<int> &V) { V.push_back(1); }
  virtual ~Base() = default;
};

void virtualCall(Base &B, std::vector<int> &V) {
  int &X = V[0];
  B.update(V);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have reallocated
}

// Lambdas are analysed as functions of their own.
void nestedLambda(std::vector<int> &V) {
  auto Outer = [&V] {
    auto Inner = [&V] {
      int &X = V[0];
      V.push_back(2);
      sink(X);
      // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'X' is used after 'V' may have reallocated
    };
    Inner();
  };
  Outer();
}

// A view captured by a lambda is used when the lambda is created.
void viewCapturedByCopy(std::vector<int> &V) {
  int *P = V.data();
  V.push_back(1);
  auto F = [P] { return *P; };
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'P' is used after 'V' may have reallocated
  sink(F());
}
