// expect: bug
// Erasing without taking the returned iterator.
#include <vector>
void f(std::vector<int> &v) {
  for (std::vector<int>::iterator it = v.begin(); it != v.end(); ++it)
    if (*it == 0)
      v.erase(it);
}
