#include "store.h"

void Store::start() { Filler = std::thread(&Store::fill, this); }
void Store::stop() { Filler.join(); }
void Store::fill() {
  for (int I = 0; I < 100; ++I)
    Values[std::to_string(I % 7)] += "x";
}
std::size_t Store::size(const std::string &Key) const {
  return Values.count(Key) ? Values.at(Key).size() : 0;
}
