#include "queue.h"

void JobQueue::finish(int Job) {
  pushThenRelease(Job);
  Done.push_back(Job);
}
