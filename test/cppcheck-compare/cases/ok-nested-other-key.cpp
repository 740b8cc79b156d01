// expect: ok
// A reference to one inner vector, growth of another.
#include <unordered_map>
#include <vector>
std::size_t f(std::unordered_map<int, std::vector<int>> &m) {
  const std::vector<int> &v = m[1];
  m[2].push_back(3);
  return v.size();
}
