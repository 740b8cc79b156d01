// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t
// RUN: %check_concguard -std=c++17 -check-suffix=CXX17 %s concguard-dangling-container-view %t -- -- -DCXX17

// std::vector and std::basic_string: every view kind across every operation
// that may reallocate, and the erase/pop_back rules.

#include <string>
#include <vector>
#if !defined(CXX17)
#include <span>
#endif
#include <string_view>

void sink(int);

void refAcrossPushBack(std::vector<int> &V) {
  int &X = V[0];
  V.push_back(1);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have reallocated [concguard-dangling-container-view]
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'X' is used after 'V'
}

void pointerAcrossEmplaceBack(std::vector<int> &V) {
  int *P = &V[1];
  V.emplace_back(2);
  *P = 3;
  // CHECK-MESSAGES: :[[@LINE-1]]:4: warning: 'P' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:4: warning: 'P' is used after 'V'
}

void dataAcrossInsert(std::vector<int> &V) {
  int *P = V.data();
  V.insert(V.begin(), 4);
  sink(P[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'P' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'P'
}

void frontAcrossResize(std::vector<int> &V) {
  int &F = V.front();
  V.resize(100);
  F = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'F' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:3: warning: 'F'
}

void backAcrossReserve(std::vector<int> &V) {
  const int &B = V.back();
  V.reserve(1000);
  sink(B);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'B' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'B'
}

void iteratorAcrossShrinkToFit(std::vector<int> &V) {
  auto It = V.begin();
  V.shrink_to_fit();
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:9: warning: 'It'
}

void atAcrossAssign(std::vector<int> &V, const std::vector<int> &W) {
  int &X = V.at(0);
  V = W;
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have destroyed its elements
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'X'
}

void iteratorAcrossClear(std::vector<int> &V) {
  auto It = V.cbegin();
  V.clear();
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'V' may have destroyed its elements
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:9: warning: 'It'
}

void assignMember(std::vector<int> &V) {
  auto It = V.end();
  V.assign(10, 0);
  sink(It == V.begin());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'V' may have destroyed its elements
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'It'
}

void derivedPointer(std::vector<int> &V) {
  int *P = V.data() + 2;
  V.push_back(0);
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:9: warning: 'P'
}

void derivedIterator(std::vector<int> &V) {
  auto It = std::next(V.begin(), 2);
  V.push_back(0);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:9: warning: 'It'
}

void addressOfDeref(std::vector<int> &V) {
  auto It = V.begin();
  int *P = &*It;
  V.push_back(0);
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:9: warning: 'P'
}

// basic_string: c_str(), string_view, += and append.
void cStrAcrossAppend(std::string &S) {
  const char *C = S.c_str();
  S.append("tail");
  sink(C[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'C' is used after 'S' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'C'
}

void stringViewAcrossPlusEqual(std::string &S) {
  std::string_view SV = S;
  S += "more";
  sink(SV.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'SV' is used after 'S' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'SV'
}

void stringViewExplicit(std::string &S) {
  std::string_view SV(S.data(), 3);
  S.push_back('x');
  sink(SV[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'SV' is used after 'S' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'SV'
}

void subView(std::string &S) {
  std::string_view SV = std::string_view(S).substr(1);
  S.insert(0, "head");
  sink(SV[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'SV' is used after 'S' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'SV'
}

void stringSwapMovesSmallStrings(std::string &S, std::string &T) {
  std::string_view SV = S;
  S.swap(T);
  sink(SV.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'SV' is used after 'S' may have destroyed its elements
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'SV'
}

#if !defined(CXX17)
void spanAcrossPushBack(std::vector<int> &V) {
  std::span<int> Sp = V;
  V.push_back(9);
  sink(Sp[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'Sp' is used after 'V' may have reallocated
}

void subspan(std::vector<int> &V) {
  std::span<int> Sp = std::span<int>(V).subspan(1);
  V.resize(0);
  sink(Sp.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'Sp' is used after 'V' may have reallocated
}
#endif

// erase: views at or after the erased position.
void endIteratorAcrossErase(std::vector<int> &V) {
  auto End = V.end();
  V.erase(V.begin() + 1);
  sink(V.begin() == End);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: 'End' is used after 'V' may have erased the element it refers to
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:21: warning: 'End'
}

void eraseAtBegin(std::vector<int> &V) {
  int &X = V[3];
  V.erase(V.begin());
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have erased the element it refers to
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'X'
}

void backAcrossPopBack(std::vector<int> &V) {
  int &B = V.back();
  V.pop_back();
  sink(B);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'B' is used after 'V' may have erased the element it refers to
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'B'
}

//===--- Negatives ---===//

// pop_back only touches the last element.
void frontAcrossPopBack(std::vector<int> &V) {
  int &F = V.front();
  V.pop_back();
  sink(F);
}

// Reading, sorting and writing elements invalidate nothing.
void readsOnly(std::vector<int> &V) {
  int *P = V.data();
  sink(V.size());
  sink(V[2]);
  V[1] = 4;
  sink(*P);
}

// The view is obtained again after the growth.
void viewRetakenAfterGrowth(std::vector<int> &V) {
  int *P = V.data();
  V.push_back(1);
  P = V.data();
  sink(*P);
}

// The view is not used after the growth.
void notUsedAfter(std::vector<int> &V) {
  int &X = V[0];
  sink(X);
  V.push_back(1);
}

// Copies are no views.
void copies(std::vector<int> &V, std::string &S) {
  int X = V[0];
  std::string Copy = S;
  std::vector<int> W(V.begin(), V.end());
  V.push_back(1);
  S += "x";
  sink(X);
  sink(Copy.size());
  sink(W.size());
}

// A reference to the container itself is not a view into it.
void referenceToContainer(std::vector<int> &V) {
  std::vector<int> &R = V;
  V.push_back(1);
  sink(R.size());
}

// Another container's view.
void otherContainer(std::vector<int> &V, std::vector<int> &W) {
  int &X = V[0];
  W.push_back(1);
  sink(X);
}

// A vector swap keeps the element storage.
void vectorSwap(std::vector<int> &V, std::vector<int> &W) {
  int *P = V.data();
  V.swap(W);
  sink(*P);
}

//===--- Capacity: reserve, then push_back within it ---===//

// Enough capacity: push_back does not reallocate, references stay valid.
int reservedEnough() {
  std::vector<int> V;
  V.reserve(8);
  V.push_back(1);
  int &First = V[0];
  V.push_back(2);
  V.emplace_back(3);
  return First;
}

int initializerListThenReserve() {
  std::vector<int> V{1, 2};
  V.reserve(3);
  int *P = V.data();
  V.push_back(3);
  return *P;
}

// The third push_back exceeds the reserved capacity.
int reservedTooLittle() {
  std::vector<int> V;
  V.reserve(2);
  V.push_back(1);
  int &First = V[0];
  V.push_back(2);
  V.push_back(3);
  return First;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: 'First' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:10: warning: 'First'
}

// A loop may push any number of times.
int reservedThenLoop(int N) {
  std::vector<int> V;
  V.reserve(4);
  V.push_back(0);
  int &First = V[0];
  for (int I = 0; I < N; ++I)
    V.push_back(I);
  return First;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: 'First' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:10: warning: 'First'
}

// Even without reallocation, push_back moves end().
bool reservedEndIterator() {
  std::vector<int> V;
  V.reserve(8);
  auto End = V.end();
  V.push_back(1);
  return V.begin() == End;
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'End' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:23: warning: 'End'
}

// C++17 emplace_back returns a reference to the new element.
void emplaceBackReference(std::vector<std::string> &V) {
  std::string &Added = V.emplace_back("first");
  V.emplace_back("second");
  sink(Added.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'Added' is used after 'V' may have reallocated
  // CHECK-MESSAGES-CXX17: :[[@LINE-2]]:8: warning: 'Added'
}

void emplaceBackReferenceUsedBefore(std::vector<std::string> &V) {
  std::string &Added = V.emplace_back("first");
  Added += "!";
  V.emplace_back("second");
}
