// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t

// Containers of containers, views stored in struct fields and aggregates,
// views into members of local objects.

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

void sink(int);
void sink(const void *);

using Table = std::unordered_map<int, std::vector<int>>;

// The inner vector reallocates, although the outer map is node-stable.
void innerPushBack(Table &M, int K) {
  int *P = M[K].data();
  M[K].push_back(1);
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'M[K]' may have reallocated [concguard-dangling-container-view]
}

void innerThroughAlias(Table &M, int K) {
  std::vector<int> &Inner = M[K];
  auto It = Inner.begin();
  Inner.emplace_back(2);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'M[K]' may have reallocated
}

void innerAt(std::map<int, std::vector<int>> &M) {
  int &X = M.at(3)[0];
  M.at(3).insert(M.at(3).begin(), 0);
  sink(X);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'X' is used after 'M.at(3)' may have reallocated
}

// A reference to one element, growth of another element.
void otherElementGrows(Table &M) {
  const auto &V = M[1];
  M[2].push_back(3);
  sink(V.size());
}

void otherInnerKey(Table &M) {
  int *P = M[1].data();
  M[2].push_back(1);
  sink(*P);
}

// Node-stable outer containers keep the inner objects in place.
void outerRehash(Table &M, int K) {
  int *P = M[K].data();
  M.rehash(4096);
  M[K + 1].clear();
  sink(*P);
}

void outerEraseSameKey(Table &M, int K) {
  auto It = M[K].begin();
  M.erase(K);
  sink(*It);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'It' is used after 'M[K]' may have erased the element it refers to
}

void outerClear(Table &M, int K) {
  const int *P = M[K].data();
  M.clear();
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'M[K]' may have destroyed its elements
}

void innerClear(Table &M) {
  int *P = M[1].data();
  M[1].clear();
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'M[1]' may have destroyed its elements
}

// A vector of vectors: reallocation moves the inner vectors, whose buffers
// stay put.
void vectorOfVectorsMovesInner(std::vector<std::vector<int>> &VV) {
  int *P = VV[0].data();
  VV.push_back({});
  sink(*P);
}

// ... but a reference to the inner vector itself is a view into the outer.
void vectorOfVectorsElementReference(std::vector<std::vector<int>> &VV) {
  std::vector<int> &Inner = VV[0];
  VV.push_back({});
  sink(Inner.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'Inner' is used after 'VV' may have reallocated
}

// Small strings live inside the string object: moving it moves them.
void vectorOfStrings(std::vector<std::string> &VS) {
  std::string_view SV = VS[0];
  VS.emplace_back("x");
  sink(SV.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'SV' is used after 'VS[0]' may have reallocated
}

//===--- Views in struct fields and aggregates ---===//

struct IntSpan {
  int *Data;
  unsigned Size;
};

void aggregateInit(std::vector<int> &V) {
  IntSpan S{V.data(), 3};
  V.push_back(1);
  sink(S.Data[0]);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'S.Data' is used after 'V' may have reallocated
}

void designatedInit(std::vector<int> &V) {
  IntSpan S{.Data = &V[1], .Size = 1};
  V.clear();
  sink(S.Data);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'S.Data' is used after 'V' may have destroyed its elements
}

void use(const IntSpan &);

void fieldAssignedThenWholeUse(std::vector<int> &V) {
  IntSpan S{};
  S.Data = V.data();
  V.resize(64);
  use(S);
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'S.Data' is used after 'V' may have reallocated
}

// The other field is no view.
void otherFieldUsed(std::vector<int> &V) {
  IntSpan S{V.data(), 3};
  V.push_back(1);
  sink(S.Size);
}

void fieldRetaken(std::vector<int> &V) {
  IntSpan S{V.data(), 3};
  V.push_back(1);
  S.Data = V.data();
  sink(S.Data[0]);
}

struct Cursor {
  std::map<int, int>::iterator Pos;
};

void iteratorField(std::map<int, int> &M) {
  Cursor C{M.find(1)};
  M.erase(1);
  sink(C.Pos->second);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'C.Pos' is used after 'M' may have erased the element it refers to
}

// A view into a member of a local object.
struct Holder {
  std::vector<int> Items;
};

void memberOfLocal(Holder &H) {
  int *P = H.Items.data();
  H.Items.push_back(1);
  sink(*P);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'P' is used after 'H.Items' may have reallocated
}

void otherHolder(Holder &H, Holder &G) {
  int *P = H.Items.data();
  G.Items.push_back(1);
  sink(*P);
}

// Structured bindings to an element.
void structuredBinding(std::map<int, std::string> &M) {
  auto &[Key, Value] = *M.begin();
  M.clear();
  sink(Value.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'Value' is used after 'M' may have destroyed its elements
}
