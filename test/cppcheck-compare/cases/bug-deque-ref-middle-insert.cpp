// expect: bug
// deque: insertion in the middle invalidates references too.
#include <deque>
int f(std::deque<int> &d) {
  int &x = d[1];
  d.insert(d.begin() + 1, 5);
  return x;
}
