// expect: bug
// Inserting into an unordered_map while iterating it.
#include <unordered_map>
void f(std::unordered_map<int, int> &m) {
  for (auto &kv : m)
    if (kv.first > 0)
      m.emplace(-kv.first, kv.second);
}
