// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 2 of 2 flagged non-map containers
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// A log and a set of ids shared by threads through helper functions that
// take them by reference, the way code is split into functions: every
// caller of append(), total() and admit() passes the flagged container (or
// the parameter of another helper), so the helpers' parameters become
// concguard::synchronized<T> references with them and their bodies take
// the lock. One thread appends lines, another admits ids, the main thread
// reads the size as they go.
#include "serial.h"
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

std::vector<std::string> Log;
std::set<int> Admitted;

std::size_t total(const std::vector<std::string> &Lines) {
  return Lines.size();
}

void append(std::vector<std::string> &Lines, const std::string &Line) {
  Lines.push_back(Line);
  if (total(Lines) % 100 == 0)
    Lines.push_back("checkpoint");
}

bool admit(std::set<int> &Ids, int Id) { return Ids.insert(Id).second; }

int main() {
  std::thread Writer([] {
    for (int I = 0; I < 2000; ++I)
      append(Log, "line " + std::to_string(I));
  });
  SERIAL_JOIN(Writer);
  int Fresh = 0;
  std::thread Gate([&Fresh] {
    for (int I = 0; I < 2000; ++I)
      Fresh += admit(Admitted, I % 300) ? 1 : 0;
  });
  SERIAL_JOIN(Gate);
  std::size_t Seen = 0;
  for (int I = 0; I < 2000; ++I)
    Seen = total(Log) > Seen ? total(Log) : Seen;
  for (int I = 0; I < 300; I += 7)
    admit(Admitted, 1000 + I);
  if (Writer.joinable())
    Writer.join();
  if (Gate.joinable())
    Gate.join();
  std::printf("lines=%zu admitted=%zu fresh=%d\n", total(Log),
              Admitted.size(), Fresh);
  (void)Seen;
  return 0;
}
