// A lock handed over to a callee that releases it (rocksdb's
// EventHelpers::NotifyOnErrorRecoveryEnd): the callee is defined in
// src/events.cpp, its callers in src/handler.cpp and src/registry.cpp.
#pragma once
#include <string>
#include <vector>

class Mutex {
public:
  void Lock();
  void Unlock();
};

class MutexLock {
public:
  explicit MutexLock(Mutex *Mu) : Mu(Mu) { this->Mu->Lock(); }
  ~MutexLock() { Mu->Unlock(); }

private:
  Mutex *const Mu;
};

struct Status {
  int Code = 0;
  std::string Message;
};

class Listener {
public:
  virtual ~Listener() = default;
  virtual void onEnd(const Status &Old, const Status &New) = 0;
};

// Releases Mu while it tells the listeners, and reads Old and New then.
void notifyEnd(const std::vector<Listener *> &Listeners, const Status &Old,
               const Status &New, Mutex *Mu);
// Reads S before releasing Mu: clean.
void notifyBefore(const Status &S, Mutex *Mu);
// Never releases Mu: clean.
void notifyHeld(const Status &S, Mutex *Mu);
// Takes S by value: the copy is made under the caller's lock. Clean.
void notifyCopy(Status S, Mutex *Mu);

class Handler {
public:
  explicit Handler(std::string Name);
  void setError(const Status &S);
  void recover();          // finding: BgError read by notifyEnd unlocked
  void recoverCopy();      // clean: a local copy is passed
  void recoverUnlocked();  // clean: the caller holds no lock
  void recoverBefore();    // clean: read before the release
  void recoverHeld();      // clean: the callee keeps the lock
  void recoverByValue();   // clean: passed by value
  void announceName();     // clean: Name is never assigned after construction

private:
  Mutex Mu;
  Status BgError;
  Status Name;
  std::vector<Listener *> Listeners;
};

void setLast(const Status &S);
void publishLast(); // finding: the global LastStatus read unlocked
