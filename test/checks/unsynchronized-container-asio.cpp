// RUN: env CPLUS_INCLUDE_PATH=%concguard_src/tools/common/boost-compat \
// RUN:   %check_concguard -std=c++17 %s concguard-unsynchronized-container %t \
// RUN:   -- -- -isystem %runtime_include

// Handlers posted to boost::asio (post, dispatch, defer, io_context::post and
// dispatch, strand::post, thread_pool) run on the threads that run their
// execution context: the spawned threads that call run() on it (and the
// spawning function, when it runs the context while such a thread runs), or
// a thread_pool's own threads. A handler races with its poster only when
// such a thread exists; handlers of one context race with each other only
// when several threads run it, and never when they share a strand. A
// context whose threads cannot be seen adds no concurrency. Needs Boost
// 1.74 (tools/deps/boost.txt) and, with clang 20 or later, concguard's
// compatibility headers, put on the include path as the tools do.

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/io_context_strand.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/bind/bind.hpp>

#include <map>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using Index = std::map<int, std::vector<int>>;

//===--- A handler and its poster -----------------------------------------===//

// The handler runs on Runner while the poster goes on.
void handlerBesidePoster() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread Runner([&Ctx] { Ctx.run(); });
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified in 'handlerBesidePoster' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Events[2].push_back(2);
  Work.reset();
  Runner.join();
}

// Clean: the poster runs the context itself, so the handler runs inside
// run(), after the poster's first write and before its second.
void handlerRunByPoster() {
  asio::io_context Ctx;
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Events[2].push_back(2);
  Ctx.run();
  Events[3].push_back(3);
}

// Clean: the handler cannot run once the only thread that runs the context
// is joined.
void handlerBeforeJoin() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread Runner([&Ctx] { Ctx.run(); });
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Work.reset();
  Runner.join();
  Events[2].push_back(2);
}

// Clean: the context is run in another unit (a parameter): its threads are
// not seen, and no concurrency is invented.
void handlerOnUnseenContext(asio::io_context &Ctx, Index &Events) {
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Events[2].push_back(2);
}

//===--- Handlers of one context ------------------------------------------===//

// Two threads run the context: the two handlers may run at once.
void twoRunners() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread First([&Ctx] { Ctx.run(); });
  std::thread Second([&Ctx] { Ctx.run(); });
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Ctx.dispatch([&Events] { Events.erase(1); });
  Work.reset();
  First.join();
  Second.join();
}

// Clean: one thread runs the context, so its handlers run one after another.
void oneRunner() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread Runner([&Ctx] { Ctx.run(); });
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Ctx.post([&Events] { Events.erase(1); });
  asio::defer(Ctx.get_executor(), [&Events] { Events.clear(); });
  Work.reset();
  Runner.join();
}

// A loop of runners: several threads.
void runnersInALoop() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::vector<std::thread> Runners;
  for (int I = 0; I < 4; ++I)
    Runners.emplace_back([&Ctx] { Ctx.run(); });
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  asio::dispatch(Ctx, [&Events] { Events.erase(1); });
  Work.reset();
  for (std::thread &Runner : Runners)
    Runner.join();
}

// One runner started through boost::bind, and the poster running the
// context too while it runs: two threads.
void runnerAndPoster() {
  asio::io_context Ctx;
  Index Events;
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  asio::post(Ctx, [&Events] { Events.erase(1); });
  std::thread Runner(boost::bind(&asio::io_context::run, &Ctx));
  Ctx.run();
  Runner.join();
}

// Clean: the only thread that runs the context runs the handler inside its
// run(), ordered with that thread's own work before and after.
void runnerWithItsOwnWork() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  Index Events;
  std::thread Runner([&Ctx, &Events] {
    Events[0].push_back(0);
    Ctx.run();
    Events.clear();
  });
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Work.reset();
  Runner.join();
}

// With a second runner, the handler may run there, beside the first
// runner's own work.
void runnerWithItsOwnWorkAndAnother() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  Index Events;
  std::thread Runner([&Ctx, &Events] {
    Events[0].push_back(0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Events' is modified here on the thread started at line [[@LINE-2]] while it is modified on the thread started at line [[@LINE+5]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
    Ctx.run();
    Events.clear();
  });
  std::thread Other([&Ctx] { Ctx.run(); });
  asio::post(Ctx, [&Events] { Events[1].push_back(1); });
  Work.reset();
  Runner.join();
  Other.join();
}

//===--- Strands ----------------------------------------------------------===//

// Clean: two runners, but every handler goes through one strand, whatever
// the spelling.
void oneStrand() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread First([&Ctx] { Ctx.run(); });
  std::thread Second([&Ctx] { Ctx.run(); });
  asio::io_context::strand Strand(Ctx);
  Index Events;
  asio::post(Strand, [&Events] { Events[1].push_back(1); });
  Strand.post([&Events] { Events.erase(1); });
  asio::post(Ctx, Strand.wrap([&Events] { Events.clear(); }));
  Work.reset();
  First.join();
  Second.join();
}

// Clean: the same with a strand<> made by make_strand and bind_executor.
void oneMadeStrand() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread First([&Ctx] { Ctx.run(); });
  std::thread Second([&Ctx] { Ctx.run(); });
  auto Strand = asio::make_strand(Ctx);
  Index Events;
  asio::post(Strand, [&Events] { Events[1].push_back(1); });
  asio::post(Ctx, asio::bind_executor(Strand, [&Events] { Events.erase(1); }));
  Work.reset();
  First.join();
  Second.join();
}

// Two strands order nothing between them; nor does a strand made for one
// post.
void twoStrands() {
  asio::io_context Ctx;
  auto Work = asio::make_work_guard(Ctx);
  std::thread First([&Ctx] { Ctx.run(); });
  std::thread Second([&Ctx] { Ctx.run(); });
  asio::io_context::strand Reads(Ctx), Writes(Ctx);
  Index Events;
  Reads.post([&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  Writes.post([&Events] { Events.erase(1); });
  Index Totals;
  asio::post(asio::make_strand(Ctx), [&Totals] { Totals[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:50: warning: 'Totals' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  asio::post(asio::make_strand(Ctx), [&Totals] { Totals.clear(); });
  Work.reset();
  First.join();
  Second.join();
}

//===--- thread_pool ------------------------------------------------------===//

// Two threads of the pool's own: the handlers race with each other, and with
// the poster until the pool is joined.
void poolOfTwo() {
  asio::thread_pool Pool(2);
  Index Events;
  asio::post(Pool, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  asio::post(Pool, [&Events] { Events.erase(1); });
  Pool.join();
  Events.clear();
}

// A pool of one thread serialises its handlers, but not with the poster.
void poolOfOne() {
  asio::thread_pool Pool(1);
  Index Events;
  asio::post(Pool, [&Events] { Events[1].push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is read in 'poolOfOne' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  asio::post(Pool, [&Events] { Events.erase(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: 'Events' is modified here on the thread started at line [[@LINE-1]] while it is read in 'poolOfOne' after it starts the thread at line [[@LINE-1]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  bool Empty = Events.empty();
  Pool.join();
  (void)Empty;
}

// Clean: a pool of one thread, and the poster reads only after the join.
void poolOfOneJoined() {
  asio::thread_pool Pool(1);
  Index Events;
  asio::post(Pool, [&Events] { Events[1].push_back(1); });
  asio::post(Pool, [&Events] { Events.erase(1); });
  Pool.wait();
  bool Empty = Events.empty();
  (void)Empty;
}

//===--- A server: the context and its threads are members ----------------===//

// Handlers posted by different member functions to a context that several
// threads run may run at once.
class Server {
public:
  Server() {
    for (int I = 0; I < 4; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
  }
  void onRequest(int Key) {
    asio::post(Ctx, [this, Key] { Sessions[Key].push_back(Key); });
    // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: 'Sessions' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+3]], with no mutex held at both accesses; {{.*}} [concguard-unsynchronized-container]
  }
  void onClose(int Key) {
    asio::post(Ctx, [this, Key] { Sessions.erase(Key); });
  }

private:
  asio::io_context Ctx;
  std::vector<std::thread> Runners;
  Index Sessions;
};

// Clean: the same server with every handler on one strand member.
class StrandServer {
public:
  StrandServer() : Strand(asio::make_strand(Ctx)) {
    for (int I = 0; I < 4; ++I)
      Runners.emplace_back([this] { Ctx.run(); });
  }
  void onRequest(int Key) {
    asio::post(Strand, [this, Key] { Sessions[Key].push_back(Key); });
  }
  void onClose(int Key) {
    asio::post(Ctx,
               asio::bind_executor(Strand, [this, Key] { Sessions.erase(Key); }));
  }

private:
  asio::io_context Ctx;
  asio::strand<asio::io_context::executor_type> Strand;
  std::vector<std::thread> Runners;
  Index Sessions;
};

// Clean: one thread runs the server's context.
class SingleThreadServer {
public:
  SingleThreadServer() : Runner([this] { Ctx.run(); }) {}
  void onRequest(int Key) {
    asio::post(Ctx, [this, Key] { Sessions[Key].push_back(Key); });
  }
  void onClose(int Key) {
    Ctx.post([this, Key] { Sessions.erase(Key); });
  }

private:
  asio::io_context Ctx;
  std::thread Runner;
  Index Sessions;
};

// The racy maps get the same fix-it as with threads: the handlers' accesses
// are rewritten with the others.
// CHECK-FIXES: asio::post(Ctx, [&Events] { Events.upsert(1, [&](auto &value) { value.push_back(1); }); });
// CHECK-FIXES: Events.upsert(2, [&](auto &value) { value.push_back(2); });
// CHECK-FIXES: asio::post(Ctx, [this, Key] { Sessions.upsert(Key, [&](auto &value) { value.push_back(Key); }); });
// CHECK-FIXES: concguard::snapshot_map<int, std::vector<int>, std::map<int, std::vector<int>>> Sessions;
