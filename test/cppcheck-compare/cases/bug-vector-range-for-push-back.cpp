// expect: bug
// Growing a vector while a range-for walks it.
#include <vector>
void f(std::vector<int> &v) {
  for (int x : v)
    if (x > 10)
      v.push_back(x / 2);
}
