#include "config.h"

std::mutex RegistryMu;
std::map<std::string, int> Registry;

void registerName(const std::string &Name) {
  std::lock_guard<std::mutex> Lock(RegistryMu);
  Registry.emplace(Name, static_cast<int>(Registry.size()));
}

void loadDefaults() { Registry.emplace("default", 0); }

int countNames() { return static_cast<int>(Registry.size()); }

int countAll() {
  std::lock_guard<std::mutex> Lock(RegistryMu);
  return countNames();
}
