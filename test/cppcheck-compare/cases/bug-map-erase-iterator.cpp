// expect: bug
// map: erase(it) and then ++it.
#include <map>
void f(std::map<int, int> &m) {
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it->second == 0)
      m.erase(it);
}
