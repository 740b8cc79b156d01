// expect: bug
// A callee grows the vector passed by reference.
#include <vector>
static void append(std::vector<int> &v, int x) { v.push_back(x); }
int f(std::vector<int> &v) {
  int *p = &v.front();
  append(v, 5);
  return *p;
}
