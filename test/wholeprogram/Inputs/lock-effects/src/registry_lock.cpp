#include "queue.h"

void lockRegistry(std::mutex &Mu) { Mu.lock(); }

void unlockRegistry(std::mutex &Mu) { Mu.unlock(); }
