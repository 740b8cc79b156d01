#include "queue.h"

void JobQueue::lockQueue() { Mu.lock(); }

void JobQueue::unlockQueue() { Mu.unlock(); }
