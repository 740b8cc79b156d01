#include "registry.h"

// A map of its own, not shared: record() cannot take another type for it.
int local() {
  Registry Mine;
  record(Mine, "x");
  return lookup(Mine, "x");
}
