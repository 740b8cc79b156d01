// Detached threads: two reported, one suppressed in the source.
#include <thread>

void work();

void reported() {
  std::thread Reported([] { work(); });
  Reported.detach();
}

void suppressedOnTheLine() {
  std::thread OnTheLine([] { work(); });
  OnTheLine.detach(); // NOLINT(concguard-uncancellable-thread)
}

// A NOLINT for another check suppresses nothing here.
void notSuppressed() {
  std::thread Other([] { work(); });
  Other.detach(); // NOLINT(bugprone-use-after-move)
}

// Compiler warnings with highlighted ranges: the region of a discarded
// [[nodiscard]] result is the whole call; that of a comparison of different
// signs, whose ranges are its operands, only the operator.
[[nodiscard]] int load(int Shard, int Key);
void discard() { load(1,
                      2); }
bool smaller(int A, unsigned B) { return A < B; }
