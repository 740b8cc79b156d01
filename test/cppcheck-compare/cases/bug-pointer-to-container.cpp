// expect: bug
// The vector grows through a pointer to it. concguard does not follow
// pointers to containers (a known limitation).
#include <vector>
int f(std::vector<int> &v) {
  std::vector<int> *pv = &v;
  int &x = v[0];
  pv->push_back(1);
  return x;
}
