// expect: bug
// A local vector and a pointer to its element.
#include <vector>
int f() {
  std::vector<int> v{1, 2, 3};
  int *p = &v[1];
  v.emplace_back(4);
  return *p;
}
