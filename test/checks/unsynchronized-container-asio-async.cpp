// RUN: env CPLUS_INCLUDE_PATH=%concguard_src/tools/common/boost-compat \
// RUN:   %check_concguard -std=c++17 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -isystem %runtime_include

// Completion handlers of boost::asio's asynchronous operations (async_wait,
// async_read_some, async_write, ...) run on the threads that run the
// context their I/O object was made from, as posted handlers do; an object
// made from a strand runs its handlers through it. And a handler on an
// object's own context, run by the object's own thread (an "active
// object": `std::thread(std::bind(&C::run, this))` whose run() calls
// `Service.run()`), is that thread's work: it runs beside the member
// functions other threads call. Needs Boost 1.74 (tools/deps/boost.txt)
// and, with clang 20 or later, concguard's compatibility headers.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using Index = std::map<int, std::vector<int>>;
using ErrorCode = boost::system::error_code;

//===--- An object with its own service thread ----------------------------===//

// The timer's handler runs on the object's thread; addPeer is called by
// other threads.
class Transports {
public:
  Transports() : Timer(Service) {}
  void start() {
    Thread = std::thread(std::bind(&Transports::run, this));
    arm();
  }
  void stop() {
    Service.stop();
    Thread.join();
  }
  void addPeer(int Id) { Peers[Id].push_back(Id); }

private:
  void run() { Service.run(); }
  void arm() {
    Timer.expires_after(std::chrono::seconds(1));
    Timer.async_wait(
        std::bind(&Transports::cleanup, this, std::placeholders::_1));
  }
  void cleanup(const ErrorCode &) {
    Peers.clear();
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: 'Peers' is modified here on the thread started at line [[@LINE-5]] while it is modified in 'Transports::addPeer', which may run concurrently with the thread started at line [[@LINE-5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    // CHECK-NOTES-COUNT-3: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE-13]]:26: note: modified here
    // CHECK-NOTES: :[[@LINE-8]]:5: note: thread started here
    // CHECK-NOTES: :[[@LINE+6]]:9: note: 'Peers' declared here
    arm();
  }
  asio::io_context Service;
  asio::steady_timer Timer;
  std::thread Thread;
  Index Peers;
};

// Clean: addPeer posts its work to the object's thread, where it runs one
// handler after another with the timer's.
class PostingTransports {
public:
  PostingTransports() : Timer(Service) {}
  void start() {
    Thread = std::thread(std::bind(&PostingTransports::run, this));
    arm();
  }
  void stop() {
    Service.stop();
    Thread.join();
  }
  void addPeer(int Id) {
    asio::post(Service, [this, Id] { Peers[Id].push_back(Id); });
  }

private:
  void run() { Service.run(); }
  void arm() {
    Timer.async_wait([this](const ErrorCode &) {
      Peers.clear();
      arm();
    });
  }
  asio::io_context Service;
  asio::steady_timer Timer;
  std::thread Thread;
  Index Peers;
};

// Clean: both sides hold the object's mutex.
class LockedTransports {
public:
  LockedTransports() : Timer(Service) {}
  void start() {
    Thread = std::thread([this] { Service.run(); });
    arm();
  }
  void stop() {
    Service.stop();
    Thread.join();
  }
  void addPeer(int Id) {
    std::lock_guard<std::mutex> Lock(Mu);
    Peers[Id].push_back(Id);
  }

private:
  void arm() {
    Timer.async_wait([this](const ErrorCode &) {
      std::lock_guard<std::mutex> Lock(Mu);
      Peers.clear();
    });
  }
  asio::io_context Service;
  asio::steady_timer Timer;
  std::thread Thread;
  std::mutex Mu;
  Index Peers;
};

// Clean: stop() clears the map after joining the service thread, and the
// public handler function runs on that thread only.
class StoppedTransports {
public:
  StoppedTransports() : Timer(Service) {}
  void start() {
    Thread = std::thread([this] { Service.run(); });
    arm();
  }
  void stop() {
    Service.stop();
    Thread.join();
    Peers.clear();
  }
  void cleanup(const ErrorCode &) {
    Peers.erase(1);
    arm();
  }

private:
  void arm() {
    Timer.async_wait(
        std::bind(&StoppedTransports::cleanup, this, std::placeholders::_1));
  }
  asio::io_context Service;
  asio::steady_timer Timer;
  std::thread Thread;
  Index Peers;
};

// Clean: the context is run by a thread of no object of this class (a
// parameter, run elsewhere): nothing says which threads call addPeer.
class BorrowedService {
public:
  explicit BorrowedService(asio::io_context &Ctx) : Timer(Ctx) {}
  void arm() {
    Timer.async_wait([this](const ErrorCode &) { Peers.clear(); });
  }
  void addPeer(int Id) { Peers[Id].push_back(Id); }

private:
  asio::steady_timer Timer;
  Index Peers;
};

//===--- Completion handlers on a context several threads run -------------===//

// Two I/O objects made from the same context, run by a loop of threads:
// their handlers, started by different functions, may run at once.
class Poller {
public:
  Poller() : Timer(Ctx), Socket(Ctx) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    armTimer();
    send();
  }

private:
  void armTimer() {
    Timer.async_wait([this](const ErrorCode &) { Seen[1].push_back(1); });
    // CHECK-NOTES: :[[@LINE-1]]:50: warning: 'Seen' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+7]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    // CHECK-NOTES-COUNT-2: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE+7]]:25: note: modified here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: thread started here
    // CHECK-NOTES: :[[@LINE+13]]:9: note: 'Seen' declared here
  }
  void send() {
    asio::async_write(Socket, asio::buffer(Data),
                      [this](const ErrorCode &, std::size_t N) {
                        Seen.erase(static_cast<int>(N));
                      });
  }
  asio::io_context Ctx;
  asio::steady_timer Timer;
  asio::ip::tcp::socket Socket;
  std::vector<std::thread> Runners;
  std::array<char, 4> Data{};
  Index Seen;
};

// Two sockets, each made with a strand of its own: their handlers are not
// ordered with each other.
class TwoStrands {
public:
  TwoStrands()
      : Left(asio::make_strand(Ctx)), Right(asio::make_strand(Ctx)) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    readLeft();
    readRight();
  }

private:
  void readLeft() {
    Left.async_read_some(asio::buffer(LeftData),
                         [this](const ErrorCode &, std::size_t N) {
                           Lengths[static_cast<int>(N)].push_back(1);
                         });
    // CHECK-NOTES: :[[@LINE-2]]:28: warning: 'Lengths' is modified here on the thread started at line [[@LINE-4]] while it is modified on the thread started at line [[@LINE+7]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    // CHECK-NOTES-COUNT-2: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE+7]]:29: note: modified here
    // CHECK-NOTES: :[[@LINE-7]]:5: note: thread started here
    // CHECK-NOTES: :[[@LINE+12]]:9: note: 'Lengths' declared here
  }
  void readRight() {
    Right.async_read_some(asio::buffer(RightData),
                          [this](const ErrorCode &, std::size_t N) {
                            Lengths.erase(static_cast<int>(N));
                          });
  }
  asio::io_context Ctx;
  asio::ip::tcp::socket Left, Right;
  std::vector<std::thread> Runners;
  std::array<char, 4> LeftData{}, RightData{};
  Index Lengths;
};

// Clean: a chain of operations, each started by the previous one's
// handler (a read handler starting the write, whose handler starts the
// next read), has one handler pending at a time: asio's implicit strand.
class Chain {
public:
  Chain() : Socket(Ctx) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    doRead();
  }

private:
  void doRead() {
    Socket.async_read_some(asio::buffer(Data),
                           [this](const ErrorCode &, std::size_t N) {
                             Pending.push_back(static_cast<int>(N));
                             doWrite();
                           });
  }
  void doWrite() {
    asio::async_write(Socket, asio::buffer(Data),
                      [this](const ErrorCode &, std::size_t) {
                        Pending.clear();
                        doRead();
                      });
  }
  asio::io_context Ctx;
  asio::ip::tcp::socket Socket;
  std::vector<std::thread> Runners;
  std::array<char, 4> Data{};
  std::vector<int> Pending;
};

// Clean: the same chain, the next operation started from a lambda written
// inside the handler.
class NestedChain {
public:
  NestedChain() : Timer(Ctx) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    arm();
  }

private:
  void arm() {
    Timer.async_wait([this](const ErrorCode &) {
      Ticks.push_back(1);
      auto Next = [this] { rearm(); };
      Next();
    });
  }
  void rearm() {
    Timer.async_wait([this](const ErrorCode &) {
      Ticks.clear();
      arm();
    });
  }
  asio::io_context Ctx;
  asio::steady_timer Timer;
  std::vector<std::thread> Runners;
  std::vector<int> Ticks;
};

// Clean: both I/O objects were made from one named strand, which runs
// their handlers one after another.
class StrandPoller {
public:
  StrandPoller()
      : Strand(asio::make_strand(Ctx)), Timer(Strand), Socket(Strand) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    armTimer();
    receive();
  }

private:
  void armTimer() {
    Timer.async_wait([this](const ErrorCode &) { Seen[1].push_back(1); });
  }
  void receive() {
    Socket.async_read_some(asio::buffer(Data),
                           [this](const ErrorCode &, std::size_t N) {
                             Seen.erase(static_cast<int>(N));
                           });
  }
  asio::io_context Ctx;
  asio::strand<asio::io_context::executor_type> Strand;
  asio::steady_timer Timer;
  asio::ip::tcp::socket Socket;
  std::vector<std::thread> Runners;
  std::array<char, 4> Data{};
  Index Seen;
};

// Clean: one socket made from a strand of its own; its read and write
// handlers run through that strand.
class Connection {
public:
  Connection() : Socket(asio::make_strand(Ctx)) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    receive();
    send();
  }

private:
  void receive() {
    Socket.async_read_some(asio::buffer(Data),
                           [this](const ErrorCode &, std::size_t N) {
                             Pending[static_cast<int>(N)].push_back(1);
                           });
  }
  void send() {
    asio::async_write(Socket, asio::buffer(Data),
                      [this](const ErrorCode &, std::size_t) {
                        Pending.clear();
                      });
  }
  asio::io_context Ctx;
  asio::ip::tcp::socket Socket;
  std::vector<std::thread> Runners;
  std::array<char, 4> Data{};
  Index Pending;
};

// Clean: the handlers are bound to one strand, whatever their objects.
class BoundHandlers {
public:
  BoundHandlers() : Strand(Ctx.get_executor()), Timer(Ctx), Socket(Ctx) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    armTimer();
    send();
  }

private:
  void armTimer() {
    Timer.async_wait(asio::bind_executor(
        Strand, [this](const ErrorCode &) { Seen[1].push_back(1); }));
  }
  void send() {
    asio::async_write(Socket, asio::buffer(Data),
                      asio::bind_executor(
                          Strand, [this](const ErrorCode &, std::size_t N) {
                            Seen.erase(static_cast<int>(N));
                          }));
  }
  asio::io_context Ctx;
  asio::strand<asio::io_context::executor_type> Strand;
  asio::steady_timer Timer;
  asio::ip::tcp::socket Socket;
  std::vector<std::thread> Runners;
  std::array<char, 4> Data{};
  Index Seen;
};

// Clean: a socket moved in from elsewhere: its context is not followed,
// and no concurrency is invented.
class Session {
public:
  explicit Session(asio::ip::tcp::socket Accepted)
      : Socket(std::move(Accepted)) {}
  void receive() {
    Socket.async_read_some(asio::buffer(Data),
                           [this](const ErrorCode &, std::size_t N) {
                             Pending[static_cast<int>(N)].push_back(1);
                           });
  }
  void send() {
    asio::async_write(Socket, asio::buffer(Data),
                      [this](const ErrorCode &, std::size_t) {
                        Pending.clear();
                      });
  }

private:
  asio::ip::tcp::socket Socket;
  std::array<char, 4> Data{};
  Index Pending;
};

//===--- Stackful coroutines (boost::asio::spawn) -------------------------===//

// A coroutine runs on the threads that run its context, as a handler does;
// the token `Yield` of the operations inside it is no handler.
class Coroutines {
public:
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    asio::spawn(Ctx, [this](asio::yield_context Yield) {
      asio::steady_timer Timer(Ctx);
      Timer.async_wait(Yield);
      Seen.push_back(1);
      // CHECK-NOTES: :[[@LINE-1]]:7: warning: 'Seen' is modified here on the thread started at line [[@LINE-4]] while it is modified on the thread started at line [[@LINE+9]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
      // CHECK-NOTES-COUNT-4: note: FIX-IT applied suggested code changes
      // CHECK-NOTES: :[[@LINE+7]]:52: note: modified here
      // CHECK-NOTES: :[[@LINE-7]]:5: note: thread started here
      // CHECK-NOTES: :[[@LINE+11]]:20: note: 'Seen' declared here
    });
    poll();
  }
  void poll() {
    asio::spawn(Ctx, [this](asio::yield_context) { Seen.clear(); });
  }

private:
  asio::io_context Ctx;
  std::vector<std::thread> Runners;
  std::vector<int> Seen;
};

// Clean: both coroutines run through one strand.
class StrandCoroutines {
public:
  StrandCoroutines() : Strand(asio::make_strand(Ctx)) {}
  void start() {
    for (int I = 0; I < 2; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
    asio::spawn(Strand, [this](asio::yield_context) { Seen.push_back(1); });
    poll();
  }
  void poll() {
    asio::spawn(Strand, [this](asio::yield_context) { Seen.clear(); });
  }

private:
  asio::io_context Ctx;
  asio::strand<asio::io_context::executor_type> Strand;
  std::vector<std::thread> Runners;
  std::vector<int> Seen;
};

// The fix-its make both racy maps concurrent maps (compiled by the test).
// CHECK-FIXES: #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <concguard/synchronized.hpp>
// CHECK-FIXES: void addPeer(int Id) { Peers.upsert(Id, [&](auto &value) { value.push_back(Id); }); }
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Peers;
// CHECK-FIXES: Timer.async_wait([this](const ErrorCode &) { Seen.upsert(1, [&](auto &value) { value.push_back(1); }); });
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Seen;
// CHECK-FIXES: Lengths.upsert(static_cast<int>(N), [&](auto &value) { value.push_back(1); });
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Lengths;
// CHECK-FIXES: Seen.with_lock([&](auto &Seen) { Seen.push_back(1); });
// CHECK-FIXES: asio::spawn(Ctx, [this](asio::yield_context) { Seen.with_lock([&](auto &Seen) { Seen.clear(); }); });
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Seen;
