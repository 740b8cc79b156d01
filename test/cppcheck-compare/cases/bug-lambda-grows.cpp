// expect: bug
// A lambda capturing the vector by reference grows it.
#include <vector>
int f(std::vector<int> &v) {
  auto add = [&v](int x) { v.push_back(x); };
  int &first = v[0];
  add(1);
  return first;
}
