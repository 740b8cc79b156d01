#include "queue.h"

void JobQueue::start() { Worker = std::thread(&JobQueue::run, this); }

void JobQueue::stop() {
  if (Worker.joinable())
    Worker.join();
}

void JobQueue::run() {
  std::lock_guard<std::mutex> Lock(Mu);
  Jobs.clear();
  Done.clear();
}
