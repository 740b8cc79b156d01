#include <concguard/concguard.hpp>

int main() {
  concguard::sharded_map<int, int> Map;
  (void)Map;
  return 0;
}
