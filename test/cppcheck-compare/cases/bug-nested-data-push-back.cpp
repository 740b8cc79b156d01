// expect: bug
// The inner vector of a map reallocates.
#include <unordered_map>
#include <vector>
int f(std::unordered_map<int, std::vector<int>> &m, int k) {
  int *p = m[k].data();
  m[k].push_back(1);
  return *p;
}
