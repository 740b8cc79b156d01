// Monitors locked through `*this` (issue 18). Where each part lives:
//  - src/jobs.cpp: Jobs::add and Jobs::take lock the monitor around Pending;
//  - src/jobs_clear.cpp: Jobs::clear writes Pending with no lock (reported),
//    Jobs::clearLocked takes the monitor by hand (clean);
//  - src/counter.cpp: Counter locks itself around every write (clean).
#include <mutex>
#include <vector>

template <typename T> class LockT {
public:
  explicit LockT(const T &Mutex) : Mutex(Mutex) { Mutex.lock(); }
  ~LockT() { Mutex.unlock(); }

private:
  const T &Mutex;
};

class Monitor {
public:
  typedef LockT<Monitor> Lock;
  void lock() const { Mu.lock(); }
  void unlock() const { Mu.unlock(); }

private:
  mutable std::mutex Mu;
};

class Jobs : public Monitor {
public:
  void add(int Job);
  int take();
  void clear();
  void clearLocked();

private:
  std::vector<int> Pending;
};

class Counter : public Monitor {
public:
  void add(int N);
  void reset();

private:
  std::vector<int> Samples;
};
