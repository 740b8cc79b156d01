#include <concguard/sharded_map.hpp>

#include <cstdio>
#include <thread>

int main() {
  concguard::sharded_map<int, int> Counts;
  std::thread Adder([&Counts] { Counts.insert_or_assign(1, 1); });
  Adder.join();
  std::printf("counted %zu\n", Counts.size());
  return Counts.size() == 1 ? 0 : 1;
}
