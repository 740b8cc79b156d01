// RUN: %check_concguard -std=c++17 %s concguard-uncancellable-thread %t

// A member thread that one member function stops for good (it sets the flag
// the thread watches, then joins it) and another (re)starts without looking
// at that flag: started after the stop, the thread is never joined, and
// destroying its handle while it runs calls std::terminate. This is
// RocksDB's ErrorHandler before upstream's fix (a recovery thread started
// by a background error that arrives after EndAutoRecovery).

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

void work();

class Recovery {
public:
  void startRecovery() {
    if (Worker)
      Worker->join();
    Worker.reset(new std::thread(&Recovery::recover, this));
    // CHECK-NOTES: :[[@LINE-1]]:22: warning: 'Worker' may be started here after 'endRecovery' has set 'Ended' and joined it: 'startRecovery' does not check 'Ended', so a thread started after the stop is never joined, and destroying 'Worker' while it runs calls std::terminate [concguard-uncancellable-thread]
    // CHECK-NOTES: :[[@LINE+13]]:5: note: 'Ended' is set here, to stop the thread
    // CHECK-NOTES: :[[@LINE+15]]:7: note: and 'Worker' is joined here, once
  }
  void onError() { startRecovery(); }

  void recover() {
    std::lock_guard<std::mutex> Lock(Mu);
    if (Ended)
      return;
    work();
  }
  void endRecovery() {
    std::unique_lock<std::mutex> Lock(Mu);
    Ended = true;
    Lock.unlock();
    if (Worker)
      Worker->join();
  }

private:
  std::mutex Mu;
  bool Ended = false;
  std::unique_ptr<std::thread> Worker;
};

// A std::thread member, an atomic flag, a join in a helper, a lambda body;
// reconnect() joins the previous poller before it starts the next one.
class Poller {
public:
  void reconnect() {
    joinThread();
    Thread = std::thread([this] { loop(); });
    // CHECK-NOTES: :[[@LINE-1]]:14: warning: 'Thread' may be started here after 'stop' has set 'Stopping' and joined it: 'reconnect' does not check 'Stopping', so a thread started after the stop is never joined, and destroying 'Thread' while it runs calls std::terminate [concguard-uncancellable-thread]
    // CHECK-NOTES: :[[@LINE+12]]:5: note: 'Stopping' is set here, to stop the thread
    // CHECK-NOTES: :[[@LINE+12]]:5: note: and 'Thread' is joined here (in 'joinThread'), once
  }
  void loop() {
    while (!Stopping.load())
      work();
  }
  void joinThread() {
    if (Thread.joinable())
      Thread.join();
  }
  void stop() {
    Stopping.store(true);
    joinThread();
  }

private:
  std::atomic<bool> Stopping{false};
  std::thread Thread;
};

// The starter checks the flag: nothing starts after the stop.
class CheckedRecovery {
public:
  void startRecovery() {
    std::lock_guard<std::mutex> Lock(Mu);
    if (Ended)
      return;
    if (Worker)
      Worker->join();
    Worker.reset(new std::thread(&CheckedRecovery::recover, this));
  }
  void recover() {
    if (!Ended)
      work();
  }
  void endRecovery() {
    {
      std::lock_guard<std::mutex> Lock(Mu);
      Ended = true;
    }
    if (Worker)
      Worker->join();
  }

private:
  std::mutex Mu;
  bool Ended = false;
  std::unique_ptr<std::thread> Worker;
};

// Its only caller checks the flag.
class GuardedCaller {
public:
  void onError() {
    if (!Ended)
      restart();
  }
  void run() {
    while (!Ended)
      work();
  }
  void stop() {
    Ended = true;
    if (Thread.joinable())
      Thread.join();
  }

private:
  void restart() {
    if (Thread.joinable())
      Thread.join();
    Thread = std::thread(&GuardedCaller::run, this);
  }
  std::atomic<bool> Ended{false};
  std::thread Thread;
};

// The destructor joins whatever runs: a late start is still joined.
class JoinedByDestructor {
public:
  ~JoinedByDestructor() {
    if (Thread.joinable())
      Thread.join();
  }
  void start() {
    if (Thread.joinable())
      Thread.join();
    Thread = std::thread(&JoinedByDestructor::run, this);
  }
  void run() {
    while (!Stopping)
      work();
  }
  void stop() {
    Stopping = true;
    if (Thread.joinable())
      Thread.join();
  }

private:
  std::atomic<bool> Stopping{false};
  std::thread Thread;
};

// The thread does not watch the flag the stopper sets.
class OtherFlag {
public:
  void start() {
    if (Thread.joinable())
      Thread.join();
    Thread = std::thread(&OtherFlag::run, this);
  }
  void run() { work(); }
  void stop() {
    Closed = true;
    if (Thread.joinable())
      Thread.join();
  }

private:
  bool Closed = false;
  std::thread Thread;
};

// The flag is set after the join: the stop does not end the restarts.
class SetAfterJoin {
public:
  void start() {
    if (Thread.joinable())
      Thread.join();
    Thread = std::thread(&SetAfterJoin::run, this);
  }
  void run() {
    while (!Done)
      work();
  }
  void finish() {
    if (Thread.joinable())
      Thread.join();
    Done = true;
  }

private:
  std::atomic<bool> Done{false};
  std::thread Thread;
};

// A plain start that its user calls once, before the stop (the bundled
// example's SessionStore): starting again after stop() is the caller's
// misuse, not a path the class itself takes.
class StartedOnceByTheUser {
public:
  void start() { Thread = std::thread(&StartedOnceByTheUser::run, this); }
  void stop() {
    Stopping = true;
    if (Thread.joinable())
      Thread.join();
  }
  void run() {
    while (!Stopping)
      work();
  }

private:
  std::atomic<bool> Stopping{false};
  std::thread Thread;
};

// Started only by the constructor.
class StartedOnce {
public:
  StartedOnce() : Thread(&StartedOnce::run, this) {}
  void run() {
    while (!Stopping)
      work();
  }
  void stop() {
    Stopping = true;
    Thread.join();
  }

private:
  std::atomic<bool> Stopping{false};
  std::thread Thread;
};

// A function that sets the flag and then restarts the thread is no stop:
// the join it reaches is the starter's join of the previous thread.
class Restarter {
public:
  void start() {
    if (Thread.joinable())
      Thread.join();
    Thread = std::thread(&Restarter::run, this);
  }
  void restart() {
    Paused = true;
    start();
  }
  void run() {
    while (!Paused)
      work();
  }

private:
  std::atomic<bool> Paused{false};
  std::thread Thread;
};
