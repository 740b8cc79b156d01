// expect: bug
// A span over a vector that grows.
#include <span>
#include <vector>
int f(std::vector<int> &v) {
  std::span<int> s(v);
  v.push_back(3);
  return s[0];
}
