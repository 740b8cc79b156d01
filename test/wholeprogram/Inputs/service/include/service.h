// A service laid out as real code is: one class per header, its members
// defined across several .cpp files. Each bug below has a clean twin.
#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Race, split across units: the thread starts in service_start.cpp, runs
// Service::run (service_run.cpp), which calls Service::record
// (service_record.cpp) to append to Samples; Service::count
// (service_query.cpp) reads Samples while the thread may run.
// Clean twin: Totals, touched under Mu on both sides.
class Service {
public:
  void start();
  void stop();
  std::size_t count() const;
  int total(int Key);

private:
  void run();
  void record(int Value);
  std::vector<int> Samples;
  std::map<int, int> Totals;
  std::mutex Mu;
  std::thread Worker;
};

// Endless thread body defined away from its start and join: Poller::loop
// (poller_loop.cpp) never ends; it is started and joined in
// poller_start.cpp. Clean twin: Ticker, whose loop checks a stop flag.
class Poller {
public:
  void start();
  void stop();

private:
  void loop();
  std::thread Thread;
};

class Ticker {
public:
  void start();
  void stop();

private:
  void loop();
  std::atomic<bool> Stopping{false};
  std::thread Thread;
};

// A global queue: the producer (producer.cpp) runs on a thread started in
// main.cpp, while main calls drain() (consumer.cpp) before the join.
// Clean twin: Journal, read by report() only after the join.
void produce();
void drain();
void journal();
void report();
extern std::vector<std::string> Queue;
extern std::vector<std::string> Journal;
