// RUN: %check_concguard -std=c++20 %s concguard-dangling-container-view %t

// Invalidation through calls: callees that grow a container passed by
// reference or pointer, callees with no visible body, member functions of
// the owning class, lambdas, globals, library helpers.

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

void sink(int);

void grow(std::vector<int> &V) { V.push_back(0); }
void growByPointer(std::vector<int> *V) { V->push_back(0); }
void growTwice(std::vector<int> &V) { grow(V); }
void readOnly(const std::vector<int> &V) { sink(V.size()); }
void touchElements(std::vector<int> &V) { V[0] = 1; std::sort(V.begin(), V.end()); }
void growOther(std::vector<int> &A, std::vector<int> &B) { B.push_back(1); }
void opaque(std::vector<int> &V); // no body in this translation unit
void opaqueConst(const std::vector<int> &V);
void opaqueValue(std::vector<int> V);

void calleeGrows(std::vector<int> &V) {
  int &X = V[0];
  grow(V);
  sink(X);
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: 'X' is used after 'V' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'V' may reallocate here (in 'grow')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void calleeGrowsThroughPointer(std::vector<int> &V) {
  int *P = V.data();
  growByPointer(&V);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'V' may reallocate here (in 'growByPointer')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void calleeGrowsTwoLevelsDown(std::vector<int> &V) {
  auto It = V.begin();
  growTwice(V);
  sink(*It);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'It' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'V' may reallocate here (in 'grow')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void unknownCallee(std::vector<int> &V) {
  int *P = V.data();
  opaque(V);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have been invalidated by a call
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'V' is passed to a function that may invalidate it here
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

// Const references, copies, element writes and other arguments are fine.
void harmlessCalls(std::vector<int> &V, std::vector<int> &W) {
  int *P = V.data();
  readOnly(V);
  opaqueConst(V);
  opaqueValue(V);
  touchElements(V);
  growOther(V, W);
  sink(*P);
}

// A lambda that captures the container by reference.
void lambdaGrows(std::vector<int> &V) {
  auto Add = [&V](int X) { V.push_back(X); };
  int &First = V.front();
  Add(3);
  sink(First);
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: 'First' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'V' may reallocate here (in a lambda)
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void lambdaReads(std::vector<int> &V) {
  auto Sum = [&V] { return V.size(); };
  int &First = V.front();
  sink(Sum());
  sink(First);
}

// A global container grown by a function.
std::vector<int> Registry;
void registerOne() { Registry.push_back(1); }

void globalGrows() {
  int *P = Registry.data();
  registerOne();
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'Registry' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'Registry' may reallocate here (in 'registerOne')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

// Library helpers whose body inserts into the argument.
void backInserter(std::vector<int> &V, const std::vector<int> &From) {
  int *P = V.data();
  std::copy(From.begin(), From.end(), std::back_inserter(V));
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'V' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:39: note: 'V' may reallocate here (in 'back_inserter')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void getlineReplacesString(std::istringstream &In, std::string &Line) {
  std::string_view View = Line;
  std::getline(In, Line);
  sink(View.size());
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: 'View' is used after 'Line' may have
  // CHECK-NOTES: :[[@LINE-3]]:3: note:
  // CHECK-NOTES: :[[@LINE-5]]:20: note: view obtained here
}

//===--- Member functions of the owning class ---===//

class Inbox {
public:
  void add(int X) { Items.push_back(X); }
  void addTwice(int X) {
    add(X);
    add(X);
  }
  int count() const { return static_cast<int>(Items.size()); }
  void reset() { Items.clear(); }
  void bump() { Items[0]++; }

  void process() {
    int &Head = Items[0];
    add(Head);
    sink(Head);
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: 'Head' is used after 'Items' may have reallocated
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Items' may reallocate here (in 'add')
    // CHECK-NOTES: :[[@LINE-5]]:10: note: view obtained here
  }

  void processIndirect() {
    auto It = Items.begin();
    addTwice(1);
    sink(*It);
    // CHECK-NOTES: :[[@LINE-1]]:11: warning: 'It' is used after 'Items' may have reallocated
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Items' may reallocate here (in 'add')
    // CHECK-NOTES: :[[@LINE-5]]:10: note: view obtained here
  }

  void processReset() {
    int *P = Items.data();
    this->reset();
    sink(*P);
    // CHECK-NOTES: :[[@LINE-1]]:11: warning: 'P' is used after 'Items' may have destroyed its elements
    // CHECK-NOTES: :[[@LINE-3]]:11: note: 'Items' destroys or replaces its elements here (in 'reset')
    // CHECK-NOTES: :[[@LINE-5]]:10: note: view obtained here
  }

  // Members that do not change the structure.
  void processReadOnly() {
    int &Head = Items[0];
    sink(count());
    bump();
    sink(Head);
  }

  // Growth of another member.
  void processOther() {
    int &Head = Items[0];
    Log.push_back(Head);
    sink(Head);
  }

  std::vector<int> Items;
  std::vector<int> Log;
};

// Through an object of the class.
void viaObject(Inbox &Box) {
  int *P = &Box.Items[0];
  Box.add(2);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'Box.Items' may have reallocated
  // CHECK-NOTES: :[[@LINE-3]]:7: note: 'Box.Items' may reallocate here (in 'add')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void viaOtherObject(Inbox &Box, Inbox &Other) {
  int *P = &Box.Items[0];
  Other.add(2);
  sink(*P);
}
