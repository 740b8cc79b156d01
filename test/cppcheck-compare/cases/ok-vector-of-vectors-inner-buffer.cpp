// expect: ok
// The outer vector moves the inner vectors; their buffers stay put.
#include <vector>
int f(std::vector<std::vector<int>> &vv) {
  int *p = vv[0].data();
  vv.emplace_back();
  return *p;
}
