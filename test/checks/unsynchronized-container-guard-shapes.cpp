// RUN: %check_concguard -std=c++17 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Guards recognised by their shape, with no LockGuardTypes option, and
// their mode: a reader guard does not guard a write. Each clean function
// below is reported when its guard is not recognised; each warning goes
// away when a reader guard is taken for an exclusive one.

#include <vector>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

void use(std::size_t);

// PowerDNS's lock.hh: guards composed of a std guard member, initialised
// through a private delegating constructor from the wrapper's mutex.
class ReadWriteLock {
public:
  std::shared_mutex &getLock() { return Lock; }

private:
  std::shared_mutex Lock;
};

class ReadLock {
public:
  ReadLock(ReadWriteLock &L) : ReadLock(L.getLock()) {}
  ReadLock(ReadWriteLock *L) : ReadLock(L->getLock()) {}

private:
  ReadLock(std::shared_mutex &M) : Held(M) {}
  std::shared_lock<std::shared_mutex> Held;
};

class WriteLock {
public:
  WriteLock(ReadWriteLock &L) : WriteLock(L.getLock()) {}
  WriteLock(ReadWriteLock *L) : WriteLock(L->getLock()) {}

private:
  WriteLock(std::shared_mutex &M) : Held(M) {}
  std::unique_lock<std::shared_mutex> Held;
};

// Only tried: held on a branch that tests it, which this class hides.
class TryWriteLock {
public:
  TryWriteLock(ReadWriteLock &L) : TryWriteLock(L.getLock()) {}
  bool gotIt() const { return Held.owns_lock(); }

private:
  TryWriteLock(std::shared_mutex &M) : Held(M, std::try_to_lock) {}
  std::unique_lock<std::shared_mutex> Held;
};

ReadWriteLock Zones;

void composedWriterAndReader() {
  std::vector<int> M;
  std::thread T([&] {
    WriteLock W(Zones);
    M.push_back(1);
  });
  {
    ReadLock R(&Zones);
    use(M.size());
  }
  T.join();
}

void composedReaderWrites() {
  std::vector<int> Names;
  std::thread T([&] {
    ReadLock R(Zones);
    Names.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Names' is modified here on the thread started at line [[@LINE-3]] while it is read in 'composedReaderWrites' after it starts the thread at line [[@LINE-3]], with no mutex held at both accesses
  });
  {
    ReadLock R(Zones);
    use(Names.size());
  }
  T.join();
}

void composedTryLock() {
  std::vector<int> Tried;
  std::thread T([&] {
    TryWriteLock W(Zones);
    Tried.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Tried' is modified here on the thread started at line [[@LINE-3]] while it is read in 'composedTryLock' after it starts the thread at line [[@LINE-3]], with no mutex held at both accesses
  });
  {
    ReadLock R(Zones);
    use(Tried.size());
  }
  T.join();
}

// rocksdb's port::RWMutex and its ReadLock/WriteLock guards: the guard's
// constructor takes the mutex shared or exclusive by name.
class RWMutex {
public:
  void ReadLock();
  void WriteLock();
  void ReadUnlock();
  void WriteUnlock();
};

class ReadGuard {
public:
  explicit ReadGuard(RWMutex *Mu) : Mu(Mu) { this->Mu->ReadLock(); }
  ~ReadGuard() { Mu->ReadUnlock(); }

private:
  RWMutex *const Mu;
};

class WriteGuard {
public:
  explicit WriteGuard(RWMutex *Mu) : Mu(Mu) { this->Mu->WriteLock(); }
  ~WriteGuard() { Mu->WriteUnlock(); }

private:
  RWMutex *const Mu;
};

RWMutex Files;

void shapedWriterAndReader() {
  std::vector<int> M;
  std::thread T([&] {
    WriteGuard W(&Files);
    M.push_back(1);
  });
  {
    ReadGuard R(&Files);
    use(M.size());
  }
  T.join();
}

void shapedReaderWrites() {
  std::vector<int> Paths;
  std::thread T([&] {
    ReadGuard R(&Files);
    Paths.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Paths' is modified here on the thread started at line [[@LINE-3]] while it is read in 'shapedReaderWrites' after it starts the thread at line [[@LINE-3]], with no mutex held at both accesses
  });
  {
    ReadGuard R(&Files);
    use(Paths.size());
  }
  T.join();
}

void byHandWriterAndReader() {
  std::vector<int> M;
  std::thread T([&] {
    Files.WriteLock();
    M.push_back(1);
    Files.WriteUnlock();
  });
  Files.ReadLock();
  use(M.size());
  Files.ReadUnlock();
  T.join();
}

// zeromq's scoped_optional_lock_t: a guard that locks the mutex it is
// given unless it is given null. Given `Cond ? &Mu : nullptr`, it protects
// what it guards (it is held whenever the flag says the data is shared);
// given a choice between two mutexes, it names no single one.
class OptionalGuard {
public:
  explicit OptionalGuard(std::mutex *Mu) : Mu(Mu) {
    if (Mu)
      Mu->lock();
  }
  ~OptionalGuard() {
    if (Mu)
      Mu->unlock();
  }

private:
  std::mutex *Mu;
};

std::mutex Sync, OtherSync;

void optionalWriterAndReader(bool ThreadSafe) {
  std::vector<int> M;
  std::thread T([&] {
    OptionalGuard G(ThreadSafe ? &Sync : nullptr);
    M.push_back(1);
  });
  {
    OptionalGuard G(!ThreadSafe ? NULL : &Sync);
    use(M.size());
  }
  T.join();
}

void eitherMutex(bool First) {
  std::vector<int> Peers;
  std::thread T([&] {
    OptionalGuard G(First ? &Sync : &OtherSync);
    Peers.push_back(1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'Peers' is modified here on the thread started at line [[@LINE-3]] while it is read in 'eitherMutex' after it starts the thread at line [[@LINE-3]], with no mutex held at both accesses
  });
  {
    OptionalGuard G(First ? &Sync : &OtherSync);
    use(Peers.size());
  }
  T.join();
}

// monero's epee critical_region_t: a template guard whose destructor calls
// its own unlock(), which unlocks the mutex once (a flag remembers an early
// unlock). Clean: both sides hold the guard.
namespace epee {
template <class Lockable> class critical_region_t {
  Lockable &Locker;
  bool Unlocked;

public:
  critical_region_t(Lockable &L) : Locker(L), Unlocked(false) {
    Locker.lock();
  }
  ~critical_region_t() { unlock(); }
  void unlock() {
    if (!Unlocked) {
      Locker.unlock();
      Unlocked = true;
    }
  }
};
} // namespace epee

std::mutex RegionMu;

void regionWriterAndReader() {
  std::vector<int> Addresses;
  std::thread T([&] {
    epee::critical_region_t<std::mutex> Region(RegionMu);
    Addresses.push_back(1);
  });
  {
    epee::critical_region_t<decltype(RegionMu)> Region(RegionMu);
    use(Addresses.size());
  }
  T.join();
}

// CHECK-FIXES: #include <concguard/synchronized.hpp>
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Names;
// CHECK-FIXES: Names.with_lock([&](auto &Names) { Names.push_back(1); });
// CHECK-FIXES: use(Names.with_shared_lock([&](const auto &Names) { return Names.size(); }));
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Tried;
// CHECK-FIXES: Tried.with_lock([&](auto &Tried) { Tried.push_back(1); });
// CHECK-FIXES: use(Tried.with_shared_lock([&](const auto &Tried) { return Tried.size(); }));
// CHECK-FIXES: concguard::synchronized<std::vector<int>> Paths;
// CHECK-FIXES: Paths.with_lock([&](auto &Paths) { Paths.push_back(1); });
// CHECK-FIXES: use(Paths.with_shared_lock([&](const auto &Paths) { return Paths.size(); }));
