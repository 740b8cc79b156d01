// A daemon laid out as real code lays it out: its thread is started with
// std::bind into a heap std::thread (daemon_start.cpp), runs in
// daemon_run.cpp, and the map it writes is also written by a public method
// of another unit (daemon_add.cpp). Its clean twin guards every access with
// the project's own mutex and guard, recognised by their shape (locks.h).
#include "locks.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

class Daemon {
public:
  void start();
  void stop();
  void add(int Key);

private:
  void run();
  std::unique_ptr<std::thread> Thread;
  std::map<int, std::vector<std::string>> Routes;
};

class LockedDaemon {
public:
  void start();
  void stop();
  void add(int Key);

private:
  void run();
  std::thread *Thread = nullptr;
  port::Mutex Mu;
  std::map<int, std::vector<std::string>> Routes;
};
