// expect: bug
// map: erase destroys the element a reference points to.
#include <map>
int f(std::map<int, int> &m) {
  int &v = m[3];
  m.erase(3);
  return v;
}
