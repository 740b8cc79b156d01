// A map guarded by a project guard class, which the check knows only from
// its LockGuardTypes option: the guard's destructor is defined in another
// file, so its shape does not show that it unlocks.
#include <string>
#include <thread>
#include <unordered_map>

namespace proj {
class Mutex {
public:
  void lock();
  void unlock();
};
class Guard {
public:
  explicit Guard(Mutex &M);
  ~Guard();
};
} // namespace proj

proj::Mutex Mu;
std::unordered_map<std::string, int> Hits;

void worker() {
  for (int I = 0; I < 100; ++I) {
    proj::Guard Lock(Mu);
    Hits[std::to_string(I % 10)] += 1;
  }
}

int main() {
  std::thread T(worker);
  int N = 0;
  {
    proj::Guard Lock(Mu);
    N = static_cast<int>(Hits.size());
  }
  T.join();
  return N > 0 ? 0 : 1;
}
