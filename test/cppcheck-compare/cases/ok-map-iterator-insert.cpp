// expect: ok
// map: insertion invalidates nothing.
#include <map>
int f(std::map<int, int> &m) {
  std::map<int, int>::iterator it = m.find(1);
  m.insert({2, 2});
  m[3] = 3;
  return it->second;
}
