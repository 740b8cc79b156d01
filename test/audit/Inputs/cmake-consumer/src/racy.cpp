#include <thread>
#include <vector>

int racy() {
  std::vector<int> Queue;
  std::thread Producer([&Queue] { Queue.push_back(1); });
  int Seen = static_cast<int>(Queue.size());
  Producer.join();
  return Seen;
}
