// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t

// The invalidation table, one family at a time: deque, unordered_*,
// map/set/list/forward_list, array.

#include <array>
#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

void sink(int);

//===--- deque ---===//

void dequeIteratorAcrossPushBack(std::deque<int> &D) {
  auto It = D.begin();
  D.push_back(1);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'D' may have reallocated [concguard-dangling-container-view]
}

void dequeIteratorAcrossEmplaceFront(std::deque<int> &D) {
  auto It = D.end();
  D.emplace_front(1);
  sink(It == D.end());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'D' may have reallocated
}

// End insertions keep references and pointers valid.
void dequeReferenceAcrossPushBack(std::deque<int> &D) {
  int &X = D.front();
  int *P = &D[3];
  D.push_back(1);
  D.push_front(2);
  D.emplace_back(3);
  sink(X);
  sink(*P);
}

void dequeReferenceAcrossMiddleInsert(std::deque<int> &D) {
  int &X = D[2];
  D.insert(D.begin() + 1, 5);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'D' may have reallocated
}

void dequeReferenceAcrossErase(std::deque<int> &D) {
  int &X = D[2];
  D.erase(D.begin() + 1);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'D' may have erased the element it refers to
}

void dequeFrontAcrossPopFront(std::deque<int> &D) {
  int &F = D.front();
  D.pop_front();
  sink(F);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'F' is used after 'D' may have erased the element it refers to
}

// pop_front erases only the first element.
void dequeBackAcrossPopFront(std::deque<int> &D) {
  int &B = D.back();
  D.pop_front();
  sink(B);
}

void dequeBeginAcrossPopFront(std::deque<int> &D) {
  auto It = D.begin();
  D.pop_front();
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'D' may have erased the element it refers to
}

void dequeShrinkToFit(std::deque<int> &D) {
  int &X = D[0];
  D.shrink_to_fit();
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'D' may have reallocated
}

//===--- unordered_map / unordered_set ---===//

void unorderedIteratorAcrossInsert(std::unordered_map<int, int> &M) {
  auto It = M.find(1);
  M.insert({2, 2});
  sink(It->second);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have rehashed [concguard-dangling-container-view]
}

void unorderedIteratorAcrossSubscript(std::unordered_map<int, int> &M) {
  auto It = M.begin();
  M[7] = 1;
  sink(It->first);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have rehashed
}

void unorderedIteratorAcrossRehash(std::unordered_map<int, int> &M) {
  auto It = M.begin();
  M.rehash(1024);
  sink(It->first);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have rehashed
}

void unorderedSetIteratorAcrossEmplace(std::unordered_set<int> &S) {
  auto It = S.find(3);
  S.emplace(4);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'S' may have rehashed
}

void unorderedIteratorAcrossReserve(std::unordered_set<int> &S) {
  auto It = S.begin();
  S.reserve(100);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'S' may have rehashed
}

// References and pointers to elements survive insertion and rehashing.
void unorderedReferenceAcrossInsert(std::unordered_map<int, std::string> &M) {
  std::string &V = M[1];
  const std::string *P = &M.at(2);
  M.insert({3, "x"});
  M.try_emplace(4, "y");
  M[5] = "z";
  M.rehash(4096);
  sink(V.size());
  sink(P->size());
}

void unorderedReferenceAcrossEraseSameKey(std::unordered_map<int, int> &M,
                                          int K) {
  int &V = M[K];
  M.erase(K);
  sink(V);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'V' is used after 'M' may have erased the element it refers to
}

void unorderedFindAcrossEraseSameKey(std::unordered_map<int, int> &M, int K) {
  auto It = M.find(K);
  M.erase(K);
  sink(It->second);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have erased the element it refers to
}

// Erasing another key leaves this element alone.
void unorderedReferenceAcrossEraseOtherKey(std::unordered_map<int, int> &M) {
  int &V = M[1];
  M.erase(2);
  sink(V);
}

void unorderedReferenceAcrossClear(std::unordered_map<int, int> &M) {
  int &V = M[1];
  M.clear();
  sink(V);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'V' is used after 'M' may have destroyed its elements
}

//===--- map / set / multimap / list / forward_list ---===//

// Insertion into node-based containers invalidates nothing.
void mapIteratorAcrossInsert(std::map<int, int> &M) {
  auto It = M.find(1);
  auto Begin = M.begin();
  M.insert({2, 2});
  M[3] = 3;
  M.emplace(4, 4);
  sink(It->second);
  sink(Begin->first);
}

void setIteratorAcrossInsert(std::set<int> &S, std::multimap<int, int> &MM) {
  auto It = S.begin();
  auto MIt = MM.begin();
  S.insert(5);
  MM.insert({1, 1});
  sink(*It);
  sink(MIt->second);
}

void listIteratorsAcrossInsertion(std::list<int> &L, std::list<int> &Other) {
  auto It = L.begin();
  int &F = L.front();
  L.push_back(1);
  L.push_front(2);
  L.insert(It, 3);
  L.splice(L.end(), Other);
  L.sort();
  sink(*It);
  sink(F);
}

void forwardListAcrossPushFront(std::forward_list<int> &L) {
  auto It = L.begin();
  L.push_front(1);
  sink(*It);
}

// erase_after(Prev) erases the element after Prev: Prev, and the element it
// designates, stay valid (OpenTTD's sprite sorter reuses them this way).
void forwardListEraseAfterKeepsPosition(std::forward_list<int> &L) {
  auto Prev = L.before_begin();
  for (auto It = L.begin(); It != L.end();) {
    if (*It < 0) {
      It = L.erase_after(Prev);
      continue;
    }
    Prev = It;
    ++It;
  }
  auto First = L.begin();
  int &Value = *First;
  L.erase_after(First);
  sink(*First);
  sink(Value);
}

// The erased iterator itself is still reported for erase().
void listEraseInvalidatesPosition(std::list<int> &L) {
  auto It = L.begin();
  L.erase(It);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'L' may have erased the element it refers to
}

void mapReferenceAcrossEraseSameKey(std::map<int, int> &M) {
  int &V = M[4];
  M.erase(4);
  sink(V);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'V' is used after 'M' may have erased the element it refers to
}

void mapReferenceAcrossEraseOtherKey(std::map<int, int> &M) {
  int &V = M[4];
  M.erase(5);
  sink(V);
}

void mapIteratorAcrossEraseOfIt(std::map<int, int> &M) {
  auto It = M.find(1);
  M.erase(It);
  sink(It->second);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have erased the element it refers to
}

void listFrontAcrossPopFront(std::list<int> &L) {
  int &F = L.front();
  int &B = L.back();
  L.pop_front();
  sink(B);
  sink(F);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'F' is used after 'L' may have erased the element it refers to
}

void listAcrossClear(std::list<int> &L) {
  auto It = L.begin();
  L.clear();
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'L' may have destroyed its elements
}

void mapAcrossAssignment(std::map<int, int> &M, const std::map<int, int> &N) {
  auto It = M.begin();
  M = N;
  sink(It->first);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'It' is used after 'M' may have destroyed its elements
}

// Erasing the element a range-for is on, through its key.
void setEraseInRangeFor(std::set<int> &S) {
  for (const int &X : S)
    // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: range-for loop over 'S' goes on after 'S' may have erased the element it refers to; its hidden iterator is invalid
    if (X % 2)
      S.erase(X);
}

//===--- array ---===//

void arrayNeverInvalidates(std::array<int, 4> &A, const std::array<int, 4> &B) {
  int *P = A.data();
  auto It = A.begin();
  A = B;
  A.fill(0);
  sink(*P);
  sink(*It);
}
