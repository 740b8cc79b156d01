#include "config.h"

void Pool::add() {
  std::lock_guard<std::mutex> Lock(Mu);
  Threads.emplace_back([this] { work(); });
}

std::size_t Pool::size() const {
  std::lock_guard<std::mutex> Lock(Mu);
  return Threads.size();
}

void Pool::joinAll() {
  {
    std::lock_guard<std::mutex> Lock(Mu);
    Exit = true;
  }
  for (std::thread &T : Threads)
    T.join();
  Threads.clear();
}

void Pool::forget() { Threads.clear(); }
