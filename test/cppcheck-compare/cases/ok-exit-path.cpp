// expect: ok
// The growth happens only on a path that returns.
#include <vector>
int f(std::vector<int> &v, bool grow) {
  int &x = v[0];
  if (grow) {
    v.push_back(1);
    return 0;
  }
  return x;
}
