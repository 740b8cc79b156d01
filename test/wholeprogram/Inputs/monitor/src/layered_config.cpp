#include "config.h"

void LayeredConfig::add(AbstractConfig *Layer) { Layers.push_back(Layer); }

bool LayeredConfig::getRaw(const std::string &Key, std::string &Value) const {
  for (AbstractConfig *Layer : Layers) {
    Value = Layer->get(Key);
    if (!Value.empty())
      return true;
  }
  return false;
}

void LayeredConfig::setRaw(const std::string &Key, const std::string &Value) {
  if (!Layers.empty())
    Layers.front()->set(Key, Value);
}

void SafeMapConfig::clear() {
  std::lock_guard<std::mutex> Lock(Mu);
  Map.clear();
}

bool SafeMapConfig::getRaw(const std::string &Key, std::string &Value) const {
  auto It = Map.find(Key);
  if (It == Map.end())
    return false;
  Value = It->second;
  return true;
}

void SafeMapConfig::setRaw(const std::string &Key, const std::string &Value) {
  Map[Key] = Value;
}

void History::record(const std::string &Line) { Lines.push_back(Line); }

std::size_t History::size() const { return Lines.size(); }

void History::touch() {
  std::lock_guard<std::mutex> Lock(Mu);
  ++Touches;
}
