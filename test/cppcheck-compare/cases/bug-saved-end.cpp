// expect: bug
// end() saved before an erase loop over a vector.
#include <vector>
void f(std::vector<int> &v) {
  auto end = v.end();
  for (auto it = v.begin(); it != end;)
    if (*it < 0)
      it = v.erase(it);
    else
      ++it;
}
