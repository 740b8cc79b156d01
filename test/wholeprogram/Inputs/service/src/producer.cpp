#include "service.h"

std::vector<std::string> Queue;
std::vector<std::string> Journal;

void pollOnce() {}

void produce() {
  for (int I = 0; I < 10; ++I)
    Queue.push_back("item");
}

void journal() { Journal.push_back("entry"); }
