// expect: bug
// An iterator kept across push_back.
#include <vector>
int f(std::vector<int> &v) {
  std::vector<int>::iterator it = v.begin();
  v.push_back(1);
  return *it;
}
