#include "queue.h"

void JobQueue::lockQueue() { Mu.lock(); }

void JobQueue::unlockQueue() { Mu.unlock(); }

void SpinMutex::lock() { Inner.lock(); }

void SpinMutex::unlock() { Inner.unlock(); }
