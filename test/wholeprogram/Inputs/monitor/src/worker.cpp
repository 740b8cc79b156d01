#include "config.h"

void Worker::start() { Thread = std::thread(&Worker::run, this); }

void Worker::stop() { Thread.join(); }

void Worker::push(int Job) { Queue.push_back(Job); }

void Worker::run() {
  std::lock_guard<std::mutex> Lock(Mu);
  Queue.clear();
}
