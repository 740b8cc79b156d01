// The project's own mutex and scoped guard: no MutexTypes or LockGuardTypes
// option names them.
namespace port {
class Mutex {
public:
  void Lock();
  void Unlock();
};
} // namespace port

class MutexLock {
public:
  explicit MutexLock(port::Mutex *Mu) : Mu(Mu) { Mu->Lock(); }
  ~MutexLock() { Mu->Unlock(); }

private:
  port::Mutex *Mu;
};
