// expect: ok
// The view is taken again after the growth.
#include <vector>
int f(std::vector<int> &v) {
  int *p = v.data();
  v.push_back(1);
  p = v.data();
  return *p;
}
