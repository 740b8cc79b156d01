// expect: ok
// list: insertion invalidates nothing.
#include <list>
int f(std::list<int> &l) {
  std::list<int>::iterator it = l.begin();
  l.push_back(1);
  l.push_front(0);
  return *it;
}
