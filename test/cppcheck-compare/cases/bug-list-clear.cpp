// expect: bug
// list: clear destroys every element.
#include <list>
int f(std::list<int> &l) {
  std::list<int>::iterator it = l.begin();
  l.clear();
  return *it;
}
