// Lock helpers defined in one unit (queue_lock.cpp) and called from others,
// which see only their declarations: their effect on the caller's locks
// comes from the whole-program facts.
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class JobQueue {
public:
  // queue_lock.cpp: take Mu and keep it; release it.
  void lockQueue();
  void unlockQueue();
  // queue_worker.cpp: the worker thread runs run() on this queue.
  void start();
  void stop();
  // queue_push.cpp.
  // Clean: push() and size() hold Mu between lockQueue() and unlockQueue().
  void push(int Job);
  std::size_t size();
  // Bug: the second push_back comes after unlockQueue() released Mu.
  void pushThenRelease(int Job);
  // queue_finish.cpp. Bug: Done is written after pushThenRelease(), which
  // takes Mu and releases it through unlockQueue(); the first round, which
  // knows no unit's effects, must not record pushThenRelease() as keeping
  // Mu (its callers would then think Done guarded).
  void finish(int Job);

private:
  void run();
  std::mutex Mu;
  std::vector<int> Jobs;
  std::vector<int> Done;
  std::thread Worker;
};

// registry_lock.cpp: lock and unlock the mutex given by reference.
void lockRegistry(std::mutex &Mu);
void unlockRegistry(std::mutex &Mu);

// registry_use.cpp. Clean: addName() holds RegistryMu through
// lockRegistry(RegistryMu) on the thread and in the function that starts it.
void addName(const std::string &Name);
void startRegistry();

// queue_lock.cpp: a mutex by its shape, whose lock() and unlock() are
// defined there. The lock model knows them from the declaration, so they
// record no lock effects (nor send their callers to a second round).
class SpinMutex {
public:
  void lock();
  void unlock();

private:
  std::mutex Inner;
};
