#include "config.h"

void MapConfig::clear() { Map.clear(); }

void MapConfig::copyTo(AbstractConfig &Other) const {
  for (const auto &Entry : Map)
    Other.set(Entry.first, Entry.second);
}

void MapConfig::clearLocked() { Map.clear(); }

void MapConfig::reset() { Map.clear(); }

void MapConfig::rebuild() { Map.erase("stale"); }

void MapConfig::reload() {
  std::lock_guard<std::mutex> Lock(Mu);
  rebuild();
}

bool MapConfig::getRaw(const std::string &Key, std::string &Value) const {
  auto It = Map.find(Key);
  if (It == Map.end())
    return false;
  Value = It->second;
  return true;
}

void MapConfig::setRaw(const std::string &Key, const std::string &Value) {
  Map[Key] = Value;
}
