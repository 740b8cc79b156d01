#include "service.h"

void Service::start() { Worker = std::thread(&Service::run, this); }

void Service::stop() {
  if (Worker.joinable())
    Worker.join();
}
