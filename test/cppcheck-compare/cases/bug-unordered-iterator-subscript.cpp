// expect: bug
// unordered_map: operator[] on a new key may rehash.
#include <unordered_map>
int f(std::unordered_map<int, int> &m, int k) {
  auto it = m.begin();
  m[k] = 1;
  return it->first;
}
