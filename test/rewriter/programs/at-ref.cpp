// RUN: %python %S/../tsan_roundtrip.py --rewrite=%concguard_rewrite --clangxx=%clangxx --runtime=%runtime_include %s %t | FileCheck %s
// CHECK: original: ThreadSanitizer reports a race
// CHECK: serial reference:
// CHECK: rewrite: rewrote 1 of 1 flagged map
// CHECK: rewritten: 3 runs, no race, same output as the serial reference
// CHECK: second rewrite: no change

// Accounts changed through a reference to the element, the way services
// write it: `auto &A = Accounts.at(Id);` then a few statements that update
// and read A, ending with `return A.Balance;`. Two tellers post to existing
// accounts while a third thread opens new ones; a posting to an account
// that does not exist still throws std::out_of_range (counted by the
// caller). The block becomes one update() callback, the balance it returns
// is stored in a std::optional and returned after the lock is released.
#include "serial.h"
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

struct Account {
  long Balance = 0;
  long Postings = 0;
  std::vector<long> Large;
};

std::unordered_map<int, Account> Accounts;

long post(int Id, long Amount) {
  auto &A = Accounts.at(Id);
  A.Balance += Amount;
  ++A.Postings;
  if (Amount >= 90)
    A.Large.push_back(Amount);
  return A.Balance;
}

void reset(int Id) {
  Account &A = Accounts.at(Id);
  A.Large.clear();
}

bool tryPost(int Id, long Amount, long &Last) {
  try {
    Last = post(Id, Amount);
    return true;
  } catch (const std::out_of_range &) {
    return false;
  }
}

int main() {
  for (int Id = 0; Id < 8; ++Id)
    Accounts[Id].Balance = 1000;
  std::thread Teller([] {
    long Last = 0;
    for (int I = 0; I < 4000; ++I)
      tryPost(I % 8, I % 100, Last);
  });
  SERIAL_JOIN(Teller);
  std::thread Opener([] {
    for (int Id = 100; Id < 600; ++Id)
      Accounts[Id].Balance = Id;
  });
  SERIAL_JOIN(Opener);
  int Missing = 0;
  long Last = 0;
  for (int I = 0; I < 4000; ++I)
    if (!tryPost(I % 9 == 8 ? -1 : I % 8, 1, Last))
      ++Missing;
  if (Teller.joinable())
    Teller.join();
  if (Opener.joinable())
    Opener.join();
  reset(7);
  long Sum = 0;
  long Postings = 0;
  std::size_t Large = 0;
  for (int Id = 0; Id < 8; ++Id) {
    Sum += Accounts.at(Id).Balance;
    Postings += Accounts.at(Id).Postings;
    Large += Accounts.at(Id).Large.size();
  }
  std::printf("sum=%ld postings=%ld large=%zu missing=%d accounts=%zu\n", Sum,
              Postings, Large, Missing, Accounts.size());
  return 0;
}
