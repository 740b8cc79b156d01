// expect: bug
// A reference to the last element kept across clear.
#include <vector>
int f(std::vector<int> &v) {
  const int &last = v.back();
  v.clear();
  return last;
}
