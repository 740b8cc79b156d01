// expect: bug
// unordered_map: insertion may rehash and invalidate iterators.
#include <unordered_map>
int f(std::unordered_map<int, int> &m) {
  std::unordered_map<int, int>::iterator it = m.find(1);
  m.insert({2, 2});
  return it->second;
}
