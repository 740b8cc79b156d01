// expect: bug
// A view stored in a struct field.
#include <vector>
struct Slice {
  int *data;
  unsigned size;
};
int f(std::vector<int> &v) {
  Slice s{v.data(), static_cast<unsigned>(v.size())};
  v.push_back(0);
  return s.data[0];
}
