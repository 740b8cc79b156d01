// expect: bug
// Growth on one branch, use after the join.
#include <vector>
int f(std::vector<int> &v, bool grow) {
  int &x = v[0];
  if (grow)
    v.push_back(1);
  return x;
}
