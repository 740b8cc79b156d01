// Every finding of this unit is suppressed: in a NOLINTBEGIN/NOLINTEND block
// here, and by a NOLINTNEXTLINE in the header.
#include <thread>

#include "ticker.h"

void work();

// NOLINTBEGIN(concguard-*)
void suppressedInABlock() {
  std::thread InABlock([] { work(); });
  InABlock.detach();
}
// NOLINTEND(concguard-*)
