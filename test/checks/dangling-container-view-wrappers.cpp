// RUN: %check_concguard -std=c++17 %s concguard-dangling-container-view %t

// A project's own container, recognised by its shape: a class that wraps a
// standard container, hands out pointers, references or iterators into it
// from its methods, and changes it from others. A view from one of its
// methods dies when another of its methods reallocates the storage, as a
// view into the wrapped container would; nothing needs configuring.

#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <vector>

void sink(int);

template <class T> class RingBuffer {
public:
  T *front() { return &Items[Head]; }
  T &back() { return Items.back(); }
  typename std::vector<T>::iterator begin() { return Items.begin(); }
  void push(T Value) { Items.push_back(Value); }
  void advance() { ++Head; }
  std::size_t size() const { return Items.size(); }

private:
  std::vector<T> Items;
  std::size_t Head = 0;
};

void pointerThenPush(RingBuffer<int> &RB) {
  int *P = RB.front();
  RB.push(1);
  sink(*P);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'P' is used after 'Items' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:6: note: 'Items' may reallocate here (in 'push')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void referenceThenPush(RingBuffer<int> &RB) {
  int &Last = RB.back();
  RB.push(2);
  sink(Last);
  // CHECK-NOTES: :[[@LINE-1]]:8: warning: 'Last' is used after 'Items' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:6: note: 'Items' may reallocate here (in 'push')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

void iteratorThenPush() {
  RingBuffer<int> RB;
  auto It = RB.begin();
  RB.push(3);
  sink(*It);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'It' is used after 'Items' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:6: note: 'Items' may reallocate here (in 'push')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
}

// Reading or moving the head changes no storage.
void pointerThenRead(RingBuffer<int> &RB) {
  int *P = RB.front();
  sink(static_cast<int>(RB.size()));
  RB.advance();
  sink(*P);
}

// Taken again after the push.
void pointerRetaken(RingBuffer<int> &RB) {
  int *P = RB.front();
  RB.push(4);
  P = RB.front();
  sink(*P);
}

// Another buffer grows.
void otherBuffer(RingBuffer<int> &A, RingBuffer<int> &B) {
  int *P = A.front();
  B.push(5);
  sink(*P);
}

// A list keeps its elements where they are.
class Chain {
public:
  int &last() { return Nodes.back(); }
  void append(int V) { Nodes.push_back(V); }

private:
  std::list<int> Nodes;
};

void listKeepsElements(Chain &C) {
  int &Last = C.last();
  C.append(6);
  sink(Last);
}

// An element of a map picked by the callee's own key: which one it is means
// nothing to the caller, and is not followed.
class Registry {
public:
  int &current() { return Values[Selected]; }
  void drop(const std::string &Name) { Values.erase(Name); }

private:
  std::map<std::string, int> Values;
  std::string Selected;
};

void mapElement(Registry &R) {
  int &Current = R.current();
  R.drop("other");
  sink(Current);
}
