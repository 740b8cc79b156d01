// expect: ok
// A copy of the element is no view.
#include <vector>
int f(std::vector<int> &v) {
  int x = v[0];
  v.push_back(x);
  return x;
}
