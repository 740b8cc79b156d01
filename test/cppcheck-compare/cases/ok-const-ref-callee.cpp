// expect: ok
// A callee that takes the vector by const reference cannot grow it.
#include <vector>
int total(const std::vector<int> &v);
int f(std::vector<int> &v) {
  int &x = v[0];
  int t = total(v);
  return x + t;
}
