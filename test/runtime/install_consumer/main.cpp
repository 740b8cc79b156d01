// Uses the installed concguard runtime headers.
#include <concguard/concguard.hpp>

#include <string>

int main() {
  concguard::sharded_map<int, std::string> a;
  concguard::snapshot_map<int, std::string> b;
  a.insert(1, "x");
  b.insert(1, "y");
  return a.at(1) == "x" && b.at(1) == "y" ? 0 : 1;
}
