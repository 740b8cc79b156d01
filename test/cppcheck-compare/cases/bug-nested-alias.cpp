// expect: bug
// Through a reference to the inner vector.
#include <map>
#include <vector>
int f(std::map<int, std::vector<int>> &m) {
  std::vector<int> &inner = m[1];
  int &x = inner[0];
  inner.push_back(2);
  return x;
}
