// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -fPIC -isystem /usr/include/x86_64-linux-gnu/qt5 \
// RUN:   -isystem /usr/include/x86_64-linux-gnu/qt5/QtCore \
// RUN:   -isystem /usr/include/x86_64-linux-gnu/qt5/QtConcurrent \
// RUN:   -isystem %runtime_include

// Threads run by a library's thread object: a QThread subclass's run(),
// or the callable of QThread::create(f), started by start() and joined by
// wait(); QThreadPool::start(R) (the runnable's run()) and start(f), tasks
// of the pool until its waitForDone(); QtConcurrent::run(f), waited for
// through its QFuture; Poco::Thread's start(Runnable &) (the runnable's
// run()) and startFunc(f), joined by join() or tryJoin(); a
// Poco::ThreadPool's start(Runnable &), a task until joinAll(). Needs Qt 5
// and POCO's headers (tools/deps/thread-libraries.txt); Debian's Qt wants
// -fPIC.

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QFuture>
#include <QtCore/QRunnable>
#include <QtCore/QThread>
#include <QtCore/QThreadPool>

#include <Poco/Runnable.h>
#include <Poco/Thread.h>
#include <Poco/ThreadPool.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

//===--- QThread -----------------------------------------------------------===//

// The classic: run() fills a map that the object's other member functions
// read from the thread that owns the object.
class Loader : public QThread {
public:
  void begin() { start(); }
  int count(const std::string &Name) { return Loaded[Name]; }

protected:
  void run() override { Loaded["config"] = 1; }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Loaded' is modified here on the thread started at line [[@LINE-5]] while it is modified in 'Loader::count', which may run concurrently with the thread started at line [[@LINE-5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

private:
  std::map<std::string, int> Loaded;
};

std::vector<int> Scanned;

// A QThread subclass whose run() writes a vector its starter writes too.
class Scanner : public QThread {
protected:
  void run() override { Scanned.push_back(1); }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Scanned' is modified here on the thread started at line [[@LINE+5]] while it is modified in 'scan' after it starts the thread at line [[@LINE+5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
};

void scan() {
  Scanner S;
  S.start();
  Scanned.push_back(2);
  S.wait();
  Scanned.push_back(3);
}

// Clean: the starter touches the vector only after wait().
void scanThenRead() {
  Scanner S;
  S.start();
  S.wait();
  Scanned.push_back(3);
}

// QThread::create(f): start() runs f on a new thread, wait() joins it.
void created(std::vector<int> &Values) {
  QThread *Worker = QThread::create([&Values] { Values.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: 'Values' is modified here on the thread started at line [[@LINE+1]] while it is modified in 'created' after it starts the thread at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Worker->start();
  Values.clear();
  Worker->wait();
  delete Worker;
}

// Clean: the same, waited for before the write.
void createdThenWaited(std::vector<int> &Values) {
  QThread *Worker = QThread::create([&Values] { Values.push_back(1); });
  Worker->start();
  Worker->wait();
  Values.clear();
  delete Worker;
}

//===--- QThreadPool -------------------------------------------------------===//

std::vector<int> Pending;

class Drainer : public QRunnable {
public:
  void run() override { Pending.clear(); }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Pending' is modified here on the thread started at line [[@LINE+5]] while it is modified in 'drainWhileAdding' after it starts the thread at line [[@LINE+5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
};

// A runnable on Qt's global pool, beside its submitter until waitForDone().
void drainWhileAdding() {
  QThreadPool::globalInstance()->start(new Drainer);
  Pending.push_back(1);
  QThreadPool::globalInstance()->waitForDone();
}

// Clean: the global pool is waited for first.
void drainThenAdd() {
  QThreadPool::globalInstance()->start(new Drainer);
  QThreadPool::globalInstance()->waitForDone();
  Pending.push_back(1);
}

// A callable on a pool of one's own.
void countOnPool(std::vector<int> &Counts) {
  QThreadPool Pool;
  Pool.start([&Counts] { Counts.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'Counts' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'countOnPool' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Counts.clear();
  Pool.waitForDone();
}

// Clean: the pool's tasks are done before the write.
void countThenClear(std::vector<int> &Counts) {
  QThreadPool Pool;
  Pool.start([&Counts] { Counts.push_back(1); });
  Pool.waitForDone();
  Counts.clear();
}

// Clean: QThread's own run() is an event loop of no project code.
void eventLoop(QThread &T) { T.start(); }

//===--- QtConcurrent ------------------------------------------------------===//

std::vector<int> Results;

void collect() { Results.push_back(1); }
// CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'Results' is modified here on the thread started at line [[@LINE+3]] while it is modified in 'concurrently' after it starts the thread at line [[@LINE+3]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]

void concurrently() {
  QFuture<void> Done = QtConcurrent::run(collect);
  Results.push_back(2);
  Done.waitForFinished();
}

// Clean: waited for before the next write.
void concurrentlyThenWait() {
  QFuture<void> Done = QtConcurrent::run(collect);
  Done.waitForFinished();
  Results.push_back(2);
}

//===--- POCO --------------------------------------------------------------===//

std::map<int, int> Index;

class Indexer : public Poco::Runnable {
public:
  void run() override { Index[1] = 1; }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Index' is modified here on the thread started at line [[@LINE+6]] while it is modified in 'index' after it starts the thread at line [[@LINE+6]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
};

void index() {
  Indexer Task;
  Poco::Thread Worker;
  Worker.start(Task);
  Index.erase(2);
  Worker.join();
}

// Clean: joined first.
void indexThenErase() {
  Indexer Task;
  Poco::Thread Worker;
  Worker.start(Task);
  Worker.join();
  Index.erase(2);
}

// startFunc with a lambda, and a clean twin under a mutex.
void startFunc(std::vector<std::string> &Log) {
  Poco::Thread Worker;
  Worker.startFunc([&Log] { Log.push_back("worker"); });
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: 'Log' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'startFunc' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Log.push_back("main");
  Worker.join();
}

void startFuncLocked(std::vector<std::string> &Log, std::mutex &Mu) {
  Poco::Thread Worker;
  Worker.startFunc([&Log, &Mu] {
    std::lock_guard<std::mutex> Lock(Mu);
    Log.push_back("worker");
  });
  {
    std::lock_guard<std::mutex> Lock(Mu);
    Log.push_back("main");
  }
  Worker.join();
}

// Two runnables started on a pool run at once until joinAll(); the write
// after it is ordered.
std::vector<int> Chunks;

class Chunker : public Poco::Runnable {
public:
  void run() override { Chunks.push_back(1); }
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Chunks' is modified here on the thread started at line [[@LINE+6]] while it is modified on the thread started at line [[@LINE+7]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
};

void pool() {
  Chunker First, Second;
  Poco::ThreadPool Pool;
  Pool.start(First);
  Pool.start(Second);
  Pool.joinAll();
  Chunks.clear();
}

// The fix-its (compiled by the test).
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES: int count(const std::string &Name) { return Loaded.get_or_insert_default(Name); }
// CHECK-FIXES: void run() override { Loaded.insert_or_assign("config", 1); }
// CHECK-FIXES: concguard::snapshot_map<std::string, int, std::map<std::string, int>> Loaded;
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Scanned;
// CHECK-FIXES: void run() override { Scanned.with_lock([&](auto &Scanned) { Scanned.push_back(1); }); }
// CHECK-FIXES: Scanned.with_lock([&](auto &Scanned) { Scanned.push_back(2); });
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Results;
// CHECK-FIXES: void collect() { Results.with_lock([&](auto &Results) { Results.push_back(1); }); }
// CHECK-FIXES: concguard::snapshot_map<int, int, std::map<int, int>> Index;
// CHECK-FIXES: void run() override { Index.insert_or_assign(1, 1); }
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Chunks;
// CHECK-FIXES: void run() override { Chunks.with_lock([&](auto &Chunks) { Chunks.push_back(1); }); }
// CHECK-FIXES: Chunks.with_lock([&](auto &Chunks) { Chunks.clear(); });
