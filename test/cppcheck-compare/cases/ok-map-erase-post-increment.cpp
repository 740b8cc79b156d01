// expect: ok
// The node-container erase(it++) idiom.
#include <map>
void f(std::map<int, int> &m) {
  for (auto it = m.begin(); it != m.end();)
    if (it->second == 0)
      m.erase(it++);
    else
      ++it;
}
