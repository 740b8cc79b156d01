// RUN: %check_concguard -std=c++17 %s concguard-dangling-container-view %t -- -- -I %S/Inputs

// A pointer kept in a field of one of the unit's own classes, pointing into
// an element of a container: a local that copies the field holds a view into
// that container, and dies when the container reallocates. Where the field
// may point is learnt from every store into it in the unit (the class is
// defined in this file, so no other unit can store into it).

#include <deque>
#include <vector>

#include "dangling-container-view-field-pointees.h"

void sink(int);

// The shape of OpenTTD's viewport drawer (the foundation child sprites): a
// static drawer whose `LastChild` points at the `Next` link of the last
// child sprite, or at a parent's `FirstChild`.
struct ChildSprite {
  int Image = 0;
  int Next = -1;
};
struct ParentSprite {
  int Image = 0;
  int FirstChild = -1;
};
struct Drawer {
  std::vector<ParentSprite> Parents;
  std::vector<ChildSprite> Children;
  int *LastChild;
  int *LastFoundationChild[2];
};
static Drawer TheDrawer;

void addParent(int Image) {
  ParentSprite &P = TheDrawer.Parents.emplace_back();
  P.Image = Image;
  TheDrawer.LastChild = &P.FirstChild;
}

void addChild(int Image) {
  if (TheDrawer.LastChild == nullptr)
    return;
  *TheDrawer.LastChild = static_cast<int>(TheDrawer.Children.size());
  ChildSprite &C = TheDrawer.Children.emplace_back();
  C.Image = Image;
  if (TheDrawer.LastFoundationChild[0] == TheDrawer.LastChild)
    TheDrawer.LastFoundationChild[0] = &C.Next;
  TheDrawer.LastChild = &C.Next; // stores a view into Children
}

void startFoundation(int Part) {
  TheDrawer.LastFoundationChild[Part] = TheDrawer.LastChild;
}

void addChildToFoundation(int Image, int Part) {
  int *OldChild = TheDrawer.LastChild;
  TheDrawer.LastChild = TheDrawer.LastFoundationChild[Part];
  addChild(Image);
  TheDrawer.LastChild = OldChild;
  // CHECK-NOTES: :[[@LINE-1]]:25: warning: 'OldChild' is used after 'TheDrawer.Children' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'TheDrawer.Children' may reallocate here (in 'addChild')
  // CHECK-NOTES: :[[@LINE-6]]:8: note: view obtained here
  // CHECK-NOTES: :[[@LINE-15]]:3: note: 'LastChild' may point into an element of 'TheDrawer.Children': one is stored in it here
}

void resetDrawer() {
  TheDrawer.Parents.clear();
  TheDrawer.Children.clear();
  TheDrawer.LastChild = nullptr;
  TheDrawer.LastFoundationChild[0] = nullptr;
  TheDrawer.LastFoundationChild[1] = nullptr;
}

// Read again after the call, the field is whatever the callee left in it.
void addChildReadAgain(int Image) {
  int *Child = TheDrawer.LastChild;
  sink(*Child);
  addChild(Image);
  Child = TheDrawer.LastChild;
  sink(*Child);
}

// The field may also point into a parent sprite, and adding a parent may
// move the parents.
void addParentKeepingChild(int Image) {
  int *OldChild = TheDrawer.LastChild;
  addParent(Image);
  TheDrawer.LastChild = OldChild;
  // CHECK-NOTES: :[[@LINE-1]]:25: warning: 'OldChild' is used after 'TheDrawer.Parents' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'TheDrawer.Parents' may reallocate here (in 'addParent')
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
  // CHECK-NOTES: :[[@LINE-55]]:3: note: 'LastChild' may point into an element of 'TheDrawer.Parents': one is stored in it here
}

// Nothing moves either container between the copy and its use.
void keepChild() {
  int *OldChild = TheDrawer.LastChild;
  sink(static_cast<int>(TheDrawer.Children.size()));
  TheDrawer.LastChild = OldChild;
}

// A field of an object of the class, pointing into the same object's
// container: the view is into that object's container.
class Graph {
public:
  struct Node {
    int Value = 0;
  };
  void add(int Value) {
    Nodes.push_back(Node{Value});
    Current = &Nodes.back();
  }
  void addAndTouchPrevious(int Value) {
    Node *Previous = Current;
    Nodes.push_back(Node{Value});
    Previous->Value += 1;
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: 'Previous' is used after 'Nodes' may have reallocated [concguard-dangling-container-view]
    // CHECK-NOTES: :[[@LINE-3]]:11: note: 'Nodes' may reallocate here
    // CHECK-NOTES: :[[@LINE-5]]:11: note: view obtained here
    // CHECK-NOTES: :[[@LINE-9]]:5: note: 'Current' may point into an element of 'Nodes': one is stored in it here
  }
  // Another object's nodes do not move this one's.
  void addToOther(Graph &Other, int Value) {
    Node *Previous = Current;
    Other.Nodes.push_back(Node{Value});
    Previous->Value += 1;
  }

private:
  std::vector<Node> Nodes;
  Node *Current = nullptr;
};

// A deque keeps its elements in place on emplace_back.
struct DequeDrawer {
  std::deque<ChildSprite> Children;
  int *LastChild = nullptr;
};
static DequeDrawer TheDequeDrawer;

void addDequeChild() {
  ChildSprite &C = TheDequeDrawer.Children.emplace_back();
  TheDequeDrawer.LastChild = &C.Next;
}

void addDequeChildren() {
  int *Old = TheDequeDrawer.LastChild;
  addDequeChild();
  TheDequeDrawer.LastChild = Old;
}

// A field that is also set from a pointer the unit cannot place is not
// known: no view.
struct Cursor {
  std::vector<int> Items;
  int *At = nullptr;
};
static Cursor TheCursor;

void cursorToBack() { TheCursor.At = &TheCursor.Items.back(); }
void cursorTo(int *Elsewhere) { TheCursor.At = Elsewhere; }

void cursorGrow() {
  int *Old = TheCursor.At;
  TheCursor.Items.push_back(1);
  sink(*Old);
}

// A field whose address escapes may be set by anyone: not known.
struct Escaping {
  std::vector<int> Items;
  int *At = nullptr;
};
static Escaping TheEscaping;
void setSomewhere(int **Where);

void escapingToBack() { TheEscaping.At = &TheEscaping.Items.back(); }
void escapingHandOut() { setSomewhere(&TheEscaping.At); }

void escapingGrow() {
  int *Old = TheEscaping.At;
  TheEscaping.Items.push_back(1);
  sink(*Old);
}

// A class copied as a whole by its implicit copy: after `A = B`, A's field
// points into B's container, not A's, so a relative view is not trusted.
struct Copied {
  std::vector<int> Items;
  int *At = nullptr;
  void toBack() { At = &Items.back(); }
  void grow() {
    int *Old = At;
    Items.push_back(1);
    sink(*Old);
  }
};

void copyWhole(Copied &A, const Copied &B) { A = B; }

// A class of a header: another unit may store anything in its field.
void headerGrow(HeaderCursor &H) {
  int *Old = H.At;
  H.Items.push_back(1);
  sink(*Old);
}

// Set by the constructor to an element of the object's own vector.
class Pool {
public:
  Pool() : Items(4), First(&Items[0]) {}
  void grow() {
    int *Old = First;
    Items.push_back(0);
    sink(*Old);
    // CHECK-NOTES: :[[@LINE-1]]:11: warning: 'Old' is used after 'Items' may have reallocated [concguard-dangling-container-view]
    // CHECK-NOTES: :[[@LINE-3]]:11: note: 'Items' may reallocate here
    // CHECK-NOTES: :[[@LINE-5]]:10: note: view obtained here
    // CHECK-NOTES: :[[@LINE-8]]:28: note: 'First' may point into an element of 'Items': one is stored in it here
  }

private:
  std::vector<int> Items;
  int *First;
};

// A pointer to the member can store anything in it.
struct ByMember {
  std::vector<int> Items;
  int *At = nullptr;
};
static ByMember TheByMember;
int *ByMember::*const AtMember = &ByMember::At;

void byMemberToBack() { TheByMember.At = &TheByMember.Items.back(); }

void byMemberGrow() {
  int *Old = TheByMember.At;
  TheByMember.Items.push_back(1);
  sink(*Old);
}

// An initialiser that is not null: where it points is not followed.
static int Elsewhere[4];
struct Initialised {
  std::vector<int> Items;
  int *At = &Elsewhere[0];
};
static Initialised TheInitialised;

void initialisedToBack() { TheInitialised.At = &TheInitialised.Items.back(); }

void initialisedGrow() {
  int *Old = TheInitialised.At;
  TheInitialised.Items.push_back(1);
  sink(*Old);
}

struct Aggregate {
  std::vector<int> *Items;
  int *At;
};
static std::vector<int> AggregateItems;
static Aggregate TheAggregate = {&AggregateItems, &Elsewhere[1]};

void aggregateToBack() { TheAggregate.At = &AggregateItems.back(); }

void aggregateGrow() {
  int *Old = TheAggregate.At;
  AggregateItems.push_back(1);
  sink(*Old);
}

// Stored through a global aggregate that only ever holds null: followed.
struct Zeroed {
  int *At;
  int *Spare[2];
};
static std::vector<int> ZeroedItems;
static Zeroed TheZeroed = {nullptr, {}};

void zeroedToBack() { TheZeroed.At = &ZeroedItems.back(); }

void zeroedGrow() {
  int *Old = TheZeroed.At;
  ZeroedItems.push_back(1);
  sink(*Old);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: 'Old' is used after 'ZeroedItems' may have reallocated [concguard-dangling-container-view]
  // CHECK-NOTES: :[[@LINE-3]]:15: note: 'ZeroedItems' may reallocate here
  // CHECK-NOTES: :[[@LINE-5]]:8: note: view obtained here
  // CHECK-NOTES: :[[@LINE-9]]:23: note: 'At' may point into an element of 'ZeroedItems': one is stored in it here
}
