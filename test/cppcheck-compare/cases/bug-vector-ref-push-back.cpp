// expect: bug
// A reference into a vector kept across push_back.
#include <vector>
int f(std::vector<int> &v) {
  int &first = v[0];
  v.push_back(42);
  return first;
}
