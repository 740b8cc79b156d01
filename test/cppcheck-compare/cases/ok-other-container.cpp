// expect: ok
// The growth is on another vector.
#include <vector>
int f(std::vector<int> &a, std::vector<int> &b) {
  int &x = a[0];
  b.push_back(1);
  return x;
}
