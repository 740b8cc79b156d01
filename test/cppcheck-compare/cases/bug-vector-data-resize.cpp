// expect: bug
// data() kept across resize.
#include <vector>
int f(std::vector<int> &v) {
  int *p = v.data();
  v.resize(v.size() * 2 + 1);
  return p[0];
}
