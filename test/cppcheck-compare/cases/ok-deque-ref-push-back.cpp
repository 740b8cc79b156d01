// expect: ok
// deque: references survive push_back and push_front.
#include <deque>
int f(std::deque<int> &d) {
  int &x = d[0];
  d.push_back(1);
  d.push_front(2);
  return x;
}
