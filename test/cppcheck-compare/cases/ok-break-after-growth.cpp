// expect: ok
// Leaving the loop right after the growth.
#include <vector>
void f(std::vector<int> &v) {
  for (int x : v) {
    if (x == 0) {
      v.push_back(1);
      break;
    }
  }
}
