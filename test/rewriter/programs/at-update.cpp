// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 2 of 2 flagged maps
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Totals kept per account and updated through at() by two threads while a
// third opens new accounts: `m.at(k) += x` and `m.at(k).push_back(x)`
// become update(), which keeps at()'s std::out_of_range for an account that
// does not exist (counted by the caller).
#include "serial.h"
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

std::unordered_map<int, long> Totals;
std::unordered_map<int, std::vector<std::string>> Marks;

void record(int Account, long Amount) {
  Totals.at(Account) += Amount;
  if (Amount % 50 == 0)
    Marks.at(Account).push_back("round");
}

bool tryRecord(int Account, long Amount) {
  try {
    record(Account, Amount);
    return true;
  } catch (const std::out_of_range &) {
    return false;
  }
}

int main() {
  for (int Account = 0; Account < 8; ++Account) {
    Totals[Account] = 0;
    Marks[Account].push_back("open");
  }
  std::thread Adder([] {
    for (int I = 0; I < 4000; ++I)
      record(I % 8, I);
  });
  SERIAL_JOIN(Adder);
  std::thread Opener([] {
    for (int Account = 100; Account < 600; ++Account) {
      Totals[Account] = Account;
      Marks[Account].push_back("new");
    }
  });
  SERIAL_JOIN(Opener);
  int Missing = 0;
  for (int I = 0; I < 4000; ++I)
    if (!tryRecord(I % 9 == 8 ? -1 : I % 8, 1))
      ++Missing;
  if (Adder.joinable())
    Adder.join();
  if (Opener.joinable())
    Opener.join();
  long Sum = 0;
  std::size_t Rounds = 0;
  for (int Account = 0; Account < 8; ++Account) {
    Sum += Totals.at(Account);
    Rounds += Marks.at(Account).size();
  }
  std::printf("sum=%ld rounds=%zu missing=%d accounts=%zu\n", Sum, Rounds,
              Missing, Totals.size());
  return 0;
}
