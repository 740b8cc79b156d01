// expect: ok
// pop_back does not touch the first element.
#include <vector>
int f(std::vector<int> &v) {
  int &first = v.front();
  v.pop_back();
  return first;
}
