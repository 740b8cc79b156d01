// expect: ok
// Enough capacity was reserved: push_back does not reallocate, and
// references to the existing elements stay valid ([vector.modifiers]).
// (cppcheck reports this; concguard tracks the reserved capacity.)
#include <vector>
int f() {
  std::vector<int> v;
  v.reserve(8);
  v.push_back(1);
  int &first = v[0];
  v.push_back(2);
  return first;
}
