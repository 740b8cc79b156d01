#include "config.h"

#include <thread>

int lookupName(const std::string &Name) {
  auto It = Registry.find(Name);
  return It == Registry.end() ? -1 : It->second;
}

int lookupLocked(const std::string &Name) { return Registry.count(Name); }

int main() {
  loadDefaults();
  std::thread Worker([] { registerName("worker"); });
  Worker.join();
  return Registry.count("worker") == 1 ? 0 : countAll();
}

int routeOf(const std::string &Name) {
  auto It = Routes.find(Name);
  return It == Routes.end() ? 0 : It->second;
}
