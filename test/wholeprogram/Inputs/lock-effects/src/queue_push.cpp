#include "queue.h"

void JobQueue::push(int Job) {
  lockQueue();
  Jobs.push_back(Job);
  unlockQueue();
}

std::size_t JobQueue::size() {
  lockQueue();
  std::size_t Count = Jobs.size();
  unlockQueue();
  return Count;
}

void JobQueue::pushThenRelease(int Job) {
  Mu.lock();
  Jobs.push_back(Job);
  unlockQueue();
  Jobs.push_back(Job);
}
