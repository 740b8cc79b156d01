// expect: bug
// deque: push_back invalidates every iterator.
#include <deque>
int f(std::deque<int> &d) {
  std::deque<int>::iterator it = d.begin();
  d.push_back(1);
  return *it;
}
