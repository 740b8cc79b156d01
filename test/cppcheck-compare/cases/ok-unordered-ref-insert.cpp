// expect: ok
// unordered_map: references to elements survive insertion and rehash.
#include <string>
#include <unordered_map>
std::size_t f(std::unordered_map<int, std::string> &m) {
  std::string &v = m[1];
  m.insert({2, "two"});
  m.rehash(1024);
  return v.size();
}
