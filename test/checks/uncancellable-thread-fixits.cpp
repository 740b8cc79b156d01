// RUN: %check_concguard -std=c++20 -check-suffix=CXX20 %s concguard-uncancellable-thread %t
// RUN: %check_concguard -std=c++17 -check-suffix=CXX17 %s concguard-uncancellable-thread %t

// The std::jthread fix-it: only under C++20, only for a local std::thread
// whose lambda loops on a constant-true condition and that is joined by the
// last statement of its block.

#include <thread>

void work();
int st = 0;

void whileTrue() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    while (true) {
      work();
    }
  });
  t.join();
}
// CHECK-FIXES-CXX20:      std::jthread t([](std::stop_token st) {
// CHECK-FIXES-CXX20-NEXT:   while (!st.stop_requested()) {
// CHECK-FIXES-CXX20-NEXT:     work();
// CHECK-FIXES-CXX20-NEXT:   }
// CHECK-FIXES-CXX20-NEXT: });
// CHECK-FIXES-CXX20-NEXT: }
// CHECK-FIXES-CXX17:      std::thread t([] {
// CHECK-FIXES-CXX17:      t.join();

void forEverWithParens() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([&]() {
    for (;;)
      work();
  });
  t.join();
}
// CHECK-FIXES-CXX20:      std::jthread t([&](std::stop_token st) {
// CHECK-FIXES-CXX20-NEXT:   for (; !st.stop_requested();)
// CHECK-FIXES-CXX20-NEXT:     work();
// CHECK-FIXES-CXX20-NEXT: });
// CHECK-FIXES-CXX20-NEXT: }

void forWithInitAndName() {
  // The lambda already uses the name `st`: the token gets another name.
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t{[] {
    for (int I = 0;; ++I)
      st += I;
  }};
  t.join();
}
// CHECK-FIXES-CXX20:      std::jthread t{[](std::stop_token stop) {
// CHECK-FIXES-CXX20-NEXT:   for (int I = 0; !stop.stop_requested(); ++I)
// CHECK-FIXES-CXX20-NEXT:     st += I;
// CHECK-FIXES-CXX20-NEXT: }};
// CHECK-FIXES-CXX20-NEXT: }

void doWhileOne() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    do
      work();
    while (1);
  });
  t.join();
}
// CHECK-FIXES-CXX20:      std::jthread t([](std::stop_token st) {
// CHECK-FIXES-CXX20-NEXT:   do
// CHECK-FIXES-CXX20-NEXT:     work();
// CHECK-FIXES-CXX20-NEXT:   while (!st.stop_requested());
// CHECK-FIXES-CXX20-NEXT: });
// CHECK-FIXES-CXX20-NEXT: }

// No fix-it: the join is not the last statement, so the new jthread would
// still be joined before anyone requests a stop.
void joinNotLast() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    while (true)
      work();
  });
  t.join();
  work();
}
// CHECK-FIXES-CXX20:      std::thread t([] {
// CHECK-FIXES-CXX20-NEXT:   while (true)

// No fix-it: the thread is used for more than the final join.
void usedElsewhere() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    while (true)
      work();
  });
  auto Id = t.get_id();
  (void)Id;
  t.join();
}
// CHECK-FIXES-CXX20:      std::thread t([] {
// CHECK-FIXES-CXX20-NEXT:   while (true)

// No fix-it: the callable takes arguments.
void lambdaWithArguments() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([](int N) {
    while (true)
      st += N;
  }, 3);
  t.join();
}
// CHECK-FIXES-CXX20:      std::thread t([](int N) {

// No fix-it: the loop condition comes from a macro.
#define FOREVER while (true)
void loopFromMacro() {
  // CHECK-MESSAGES-CXX20: :[[@LINE+2]]:15: warning: thread runs a loop that can never end
  // CHECK-MESSAGES-CXX17: :[[@LINE+1]]:15: warning: thread runs a loop that can never end
  std::thread t([] {
    FOREVER
      work();
  });
  t.join();
}
// CHECK-FIXES-CXX20:      std::thread t([] {
// CHECK-FIXES-CXX20-NEXT:   FOREVER
