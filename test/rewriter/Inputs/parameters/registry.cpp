#include "registry.h"

void record(Registry &Events, const std::string &Key) { ++Events[Key]; }

int lookup(const Registry &Events, const std::string &Key) {
  auto It = Events.find(Key);
  return It != Events.end() ? It->second : 0;
}

int countAll(const Registry &Events) {
  int N = 0;
  for (const auto &[Key, Count] : Events)
    N += Count;
  return N;
}
