// RUN: %check_concguard -std=c++20 %s concguard-uncancellable-thread %t

// A local std::thread joined at the end of its block is destroyed while
// joinable when a statement between its start and its join throws: the
// exception unwinds past the join, and the thread's destructor calls
// std::terminate. Reported only where the code clearly throws: a `throw`
// expression, or a call of a project function (not noexcept) whose body,
// or that of a function it calls, has a `throw` outside any `try`.

#include <stdexcept>
#include <string>
#include <thread>

void work();
int parse(const std::string &Text) {
  if (Text.empty())
    throw std::invalid_argument("empty");
  return static_cast<int>(Text.size());
}
int parseTwice(const std::string &Text) { return parse(Text) + parse(Text); }
int length(const std::string &Text) noexcept { return Text.size(); }
int count(const std::string &Text) { return static_cast<int>(Text.size()); }

void throwsBetween(bool Bad) {
  std::thread T(work);
  if (Bad)
    throw std::runtime_error("bad input");
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: if this throws, std::thread 'T' is destroyed while still joinable, which calls std::terminate; join it on the exception path too (a guard object whose destructor joins, a try/catch, or std::jthread) [concguard-uncancellable-thread]
  // CHECK-NOTES: :[[@LINE-4]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE+1]]:3: note: joined here only when nothing threw
  T.join();
}

int callThatThrows(const std::string &Text) {
  std::thread T(work);
  int Value = parseTwice(Text);
  // CHECK-NOTES: :[[@LINE-1]]:15: warning: if this throws, std::thread 'T' is destroyed while still joinable
  // CHECK-NOTES: :[[@LINE-3]]:15: note: thread started here
  // CHECK-NOTES: :[[@LINE+1]]:3: note: joined here only when nothing threw
  T.join();
  return Value;
}

// Clean twins.

// noexcept, or no throw in sight.
int safeCalls(const std::string &Text) {
  std::thread T(work);
  int Value = length(Text) + count(Text);
  T.join();
  return Value;
}

// The throw is caught before it leaves the statement.
int caught(const std::string &Text) {
  std::thread T(work);
  int Value = 0;
  try {
    Value = parse(Text);
  } catch (const std::exception &) {
    Value = -1;
  }
  T.join();
  return Value;
}

// A try around the thread: its handler may join it.
void handled(bool Bad) {
  try {
    std::thread T(work);
    if (Bad)
      throw std::runtime_error("bad input");
    T.join();
  } catch (...) {
  }
}

// A guard joins the thread in its destructor.
struct JoinGuard {
  explicit JoinGuard(std::thread &T) : T(T) {}
  ~JoinGuard() {
    if (T.joinable())
      T.join();
  }
  std::thread &T;
};

void guarded(bool Bad) {
  std::thread T(work);
  JoinGuard Guard(T);
  if (Bad)
    throw std::runtime_error("bad input");
}

// Joined before anything can throw.
void joinedFirst(bool Bad) {
  std::thread T(work);
  T.join();
  if (Bad)
    throw std::runtime_error("bad input");
}

// A std::jthread joins in its destructor.
void jthread(bool Bad) {
  std::jthread T(work);
  if (Bad)
    throw std::runtime_error("bad input");
  T.join();
}

// A throw inside a lambda runs where the lambda is called.
void lambdaThrows() {
  std::thread T(work);
  auto Check = [](bool Bad) {
    if (Bad)
      throw std::runtime_error("bad input");
  };
  T.join();
  Check(false);
}
