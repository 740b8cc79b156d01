// expect: bug
// i == j: the inner vector grown is the one viewed. concguard compares
// keys syntactically and misses this (a known limitation).
#include <vector>
int f(std::vector<std::vector<int>> &vv, int i, int j) {
  int &x = vv[i][0];
  if (i == j)
    vv[j].push_back(1);
  return x;
}
