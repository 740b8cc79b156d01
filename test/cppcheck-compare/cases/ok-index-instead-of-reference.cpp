// expect: ok
// Keeping an index, not a reference.
#include <vector>
int f(std::vector<int> &v) {
  std::size_t i = 0;
  v.push_back(1);
  return v[i];
}
