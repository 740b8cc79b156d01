// expect: bug
// c_str() kept across append.
#include <string>
char f(std::string &s) {
  const char *c = s.c_str();
  s += " and more text that does not fit";
  return c[0];
}
