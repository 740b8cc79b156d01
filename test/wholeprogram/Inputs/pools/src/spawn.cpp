#include "spawn.h"

std::thread startWorker(std::function<void()> Work) {
  return std::thread(std::move(Work));
}
