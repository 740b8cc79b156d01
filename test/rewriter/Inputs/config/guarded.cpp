// A map guarded by a project mutex, which the check knows only from its
// MutexTypes option.
#include <string>
#include <thread>
#include <unordered_map>

namespace proj {
class Mutex {
public:
  void lock();
  void unlock();
};
} // namespace proj

proj::Mutex Mu;
std::unordered_map<std::string, int> Hits;

void worker() {
  for (int I = 0; I < 100; ++I) {
    Mu.lock();
    Hits[std::to_string(I % 10)] += 1;
    Mu.unlock();
  }
}

int main() {
  std::thread T(worker);
  Mu.lock();
  int N = static_cast<int>(Hits.size());
  Mu.unlock();
  T.join();
  return N > 0 ? 0 : 1;
}
