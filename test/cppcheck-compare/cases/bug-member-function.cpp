// expect: bug
// A member function of the owning class grows the member.
#include <vector>
class Queue {
public:
  void push(int x) { items.push_back(x); }
  int drain() {
    int &head = items[0];
    push(head + 1);
    return head;
  }

private:
  std::vector<int> items;
};
