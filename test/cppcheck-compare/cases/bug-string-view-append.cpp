// expect: bug
// A string_view into a string that grows.
#include <string>
#include <string_view>
std::size_t f(std::string &s) {
  std::string_view view = s;
  s.append(100, 'x');
  return view.size();
}
