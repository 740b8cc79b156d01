// expect: bug
// Growth in one iteration, use in the next.
#include <vector>
int f(std::vector<int> &v, int n) {
  int sum = 0;
  const int &first = v[0];
  for (int i = 0; i < n; ++i) {
    sum += first;
    v.push_back(i);
  }
  return sum;
}
