// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged non-map container
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A std::set member of a class, used by two threads started on `this`:
// `firstTime` tests and inserts (`if (!Seen.count(Id)) { Seen.insert(Id);
// Fresh = true; }`), which becomes one callback under the write lock, so
// every id counts as fresh exactly once however the threads interleave.
#include "serial.h"
#include <cstdio>
#include <set>
#include <thread>

class Dedup {
public:
  void run() {
    std::thread A([this] { FreshA = scan(0, 2000); });
    SERIAL_JOIN(A);
    std::thread B([this] { FreshB = scan(1000, 3000); });
    SERIAL_JOIN(B);
    if (A.joinable())
      A.join();
    if (B.joinable())
      B.join();
  }
  void print() const {
    std::printf("fresh=%d distinct=%zu\n", FreshA + FreshB, Seen.size());
  }

private:
  std::set<int> Seen;
  int FreshA = 0, FreshB = 0;

  bool firstTime(int Id) {
    bool Fresh = false;
    if (!Seen.count(Id)) {
      Seen.insert(Id);
      Fresh = true;
    }
    return Fresh;
  }
  int scan(int From, int To) {
    int Fresh = 0;
    for (int Id = From; Id < To; ++Id)
      Fresh += firstTime(Id);
    return Fresh;
  }
};

int main() {
  Dedup D;
  D.run();
  D.print();
  return 0;
}
