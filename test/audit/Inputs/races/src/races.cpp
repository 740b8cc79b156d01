// Three races of concguard-unsynchronized-container, one per shape of its
// notes (test/audit/code-flows.test): call paths on both sides, the parent
// after the start, and two threads started at the same place.
#include <map>
#include <thread>
#include <vector>

class Store {
public:
  Store() : Worker([this] { run(); }) {}
  ~Store() { Worker.join(); }
  int count() const { return size(); }

private:
  void add(int Key) { Entries[Key] = 1; }
  void run() { add(1); }
  int size() const { return static_cast<int>(Entries.size()); }
  std::map<int, int> Entries;
  std::thread Worker;
};

int parentReadsEarly() {
  std::vector<int> Queue;
  std::thread Producer([&Queue] { Queue.push_back(1); });
  int Seen = static_cast<int>(Queue.size());
  Producer.join();
  return Seen;
}

void sameStart() {
  std::vector<int> Results;
  std::vector<std::jthread> Pool;
  for (int I = 0; I < 4; ++I)
    Pool.emplace_back([&Results, I] { Results.push_back(I); });
}

int main() {
  Store S;
  sameStart();
  return S.count() + parentReadsEarly();
}
