#include "journal.h"

#include <algorithm>
#include <execution>
#include <vector>

// The body runs on several threads at once and appends to the unlocked log
// through record(), in another unit.
void scan(const std::vector<int> &Entries) {
  std::for_each(std::execution::par, Entries.begin(), Entries.end(),
                [](int Entry) { record(Entry); });
}

// Clean: the other log is locked inside recordLocked().
void scanAudited(const std::vector<int> &Entries) {
  std::for_each(std::execution::par, Entries.begin(), Entries.end(),
                [](int Entry) { recordLocked(Entry); });
}

// Clean: the sequential policy runs the body on the calling thread.
void scanInOrder(const std::vector<int> &Entries) {
  std::for_each(std::execution::seq, Entries.begin(), Entries.end(),
                [](int Entry) { record(Entry); });
}

// Clean: the body only reads, under the lock.
int audited(const std::vector<int> &Entries) {
  return static_cast<int>(std::count_if(
      std::execution::par, Entries.begin(), Entries.end(),
      [](int Entry) { return countOf(Entry) > 0; }));
}
