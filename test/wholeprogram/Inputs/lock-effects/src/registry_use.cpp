#include "queue.h"

static std::mutex RegistryMu;
static std::vector<std::string> Names;

void addName(const std::string &Name) {
  lockRegistry(RegistryMu);
  Names.push_back(Name);
  unlockRegistry(RegistryMu);
}

void startRegistry() {
  std::thread Loader([] { addName("loader"); });
  addName("main");
  Loader.join();
}
