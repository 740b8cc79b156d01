#include "config.h"

AbstractConfig::~AbstractConfig() = default;

std::string AbstractConfig::get(const std::string &Key) const {
  std::lock_guard<std::mutex> Lock(Mu);
  std::string Value;
  if (getRaw(Key, Value))
    return Value;
  return "";
}

void AbstractConfig::set(const std::string &Key, const std::string &Value) {
  std::lock_guard<std::mutex> Lock(Mu);
  setRaw(Key, Value);
}
