// expect: bug
// A pointer to an element kept across insert.
#include <vector>
int f(std::vector<int> &v) {
  int *p = &v[0];
  v.insert(v.begin(), 7);
  return *p;
}
