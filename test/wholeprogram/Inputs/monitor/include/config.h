// A configuration hierarchy laid out as Poco::Util's is: the base class
// takes its mutex around virtual calls of getRaw/setRaw
// (abstract_config.cpp), the derived classes keep the data and implement
// them in their own units. No thread is started anywhere: the classes'
// users start them. What shows the objects are shared is the base class's
// lock around every lookup (the lock-evidence rule).
#include <list>
#include <map>
#include <mutex>
#include <string>

class AbstractConfig {
public:
  virtual ~AbstractConfig();
  std::string get(const std::string &Key) const;
  void set(const std::string &Key, const std::string &Value);

protected:
  virtual bool getRaw(const std::string &Key, std::string &Value) const = 0;
  virtual void setRaw(const std::string &Key, const std::string &Value) = 0;
  mutable std::mutex Mu;
};

// Bug: clear() modifies the map without the base class's mutex
// (map_config.cpp). copyTo() reads it without the mutex too, but an unlocked
// read of a member is not reported (too often a protocol the types do not
// show).
class MapConfig : public AbstractConfig {
public:
  void clear();
  void copyTo(AbstractConfig &Other) const;
  // Clean: the caller holds the lock, as the name says.
  void clearLocked();
  // Clean: the comment says the caller holds the lock.
  // REQUIRES: Mu held.
  void reset();
  // Clean: only reload() calls it, with the lock held.
  void rebuild();
  void reload();

protected:
  bool getRaw(const std::string &Key, std::string &Value) const override;
  void setRaw(const std::string &Key, const std::string &Value) override;

private:
  std::map<std::string, std::string> Map;
};

// Bug: load() refills the map through clear() and setRaw() without the
// mutex (file_config.cpp).
class FileConfig : public MapConfig {
public:
  void load(const std::string &Text);
};

// Bug: add() appends a layer without the mutex while lookups walk the list
// under it (layered_config.cpp).
class LayeredConfig : public AbstractConfig {
public:
  void add(AbstractConfig *Layer);

protected:
  bool getRaw(const std::string &Key, std::string &Value) const override;
  void setRaw(const std::string &Key, const std::string &Value) override;

private:
  std::list<AbstractConfig *> Layers;
};

// Clean twin: clear() takes the mutex.
class SafeMapConfig : public AbstractConfig {
public:
  void clear();

protected:
  bool getRaw(const std::string &Key, std::string &Value) const override;
  void setRaw(const std::string &Key, const std::string &Value) override;

private:
  std::map<std::string, std::string> Map;
};

// Clean: the class has a mutex, but the history is never used under it, so
// nothing says it is shared (and nothing starts a thread).
class History {
public:
  void record(const std::string &Line);
  std::size_t size() const;
  void touch();

private:
  std::mutex Mu;
  int Touches = 0;
  std::list<std::string> Lines;
};

// A worker whose thread runs on `this`: the race between push() and the
// thread is reported once, by the thread-evidence rule (worker.cpp).
#include <thread>
#include <vector>
class Worker {
public:
  void start();
  void stop();
  void push(int Job);

private:
  void run();
  std::mutex Mu;
  std::vector<int> Queue;
  std::thread Thread;
};

// A global registry: registerName() inserts with RegistryMu held
// (registry.cpp), so the map is shared; lookupName() reads it with no lock
// (registry_read.cpp). Clean: loadDefaults() writes without the lock (start-up
// code, before the threads: an unlocked write is not reported for globals),
// lookupLocked() says by its name that the caller locks, countNames() is only
// called with the lock held, and main() reads it after its threads.
extern std::mutex RegistryMu;
extern std::map<std::string, int> Registry;
void registerName(const std::string &Name);
int lookupName(const std::string &Name);
void loadDefaults();
int lookupLocked(const std::string &Name);
int countNames();
int countAll();

// A pool that tears itself down as rocksdb's ThreadPoolImpl::Impl does
// (pool.cpp): joinAll() sets the exit flag under Mu, joins every thread and
// then clears the vector with no lock; the threads are gone by then, so
// that is not reported. forget() clears it with no lock and no join:
// reported, as Mu guards the vector in add() and size().
class Pool {
public:
  void add();
  std::size_t size() const;
  void joinAll();
  void forget();

private:
  void work();
  mutable std::mutex Mu;
  bool Exit = false;
  std::vector<std::thread> Threads;
};

// Sockets laid out as zeromq's socket_base_t and radio_t are: a guard that
// locks the mutex it is given unless it is given null, and callers that give
// it `ThreadSafe ? &Sync : nullptr`, so the lock is taken exactly when the
// object may be used by several threads (socket.cpp).
class OptionalLock {
public:
  explicit OptionalLock(std::mutex *Mu) : Mu(Mu) {
    if (Mu)
      Mu->lock();
  }
  ~OptionalLock() {
    if (Mu)
      Mu->unlock();
  }
  OptionalLock(const OptionalLock &) = delete;
  OptionalLock &operator=(const OptionalLock &) = delete;

private:
  std::mutex *Mu;
};

// Clean: bind() changes the endpoints under the conditional lock, which is
// held whenever several threads may call it; connectPeer() and
// disconnectPeer() take the same mutex unconditionally (the lock evidence).
// Bug: dropAll() clears them with no lock at all.
class Socket {
public:
  void bind(const std::string &Address);
  void connectPeer(const std::string &Address);
  void disconnectPeer(const std::string &Address);
  void dropAll();

private:
  bool ThreadSafe = false;
  std::mutex Sync;
  std::map<std::string, int> Endpoints;
};

// Clean: a class whose only locks are conditional says nothing about
// whether its objects are shared, so its unlocked callback is not reported
// (zeromq's radio_t::xattach_pipe beside its conditionally locked join()).
// Clean: a global table written only under a conditional lock (socket.cpp)
// and read with no lock (registry_read.cpp): no unconditional lock says it
// is shared.
extern std::map<std::string, int> Routes;
void addRoute(bool ThreadSafe, const std::string &Name);
int routeOf(const std::string &Name);

class Radio {
public:
  void join(const std::string &Group);
  void leave(const std::string &Group);
  void attachPipe(const std::string &Group);

private:
  bool ThreadSafe = false;
  std::mutex Sync;
  std::vector<std::string> Groups;
};

// A wallet laid out as monero's wallet2 is (wallet.cpp, wallet_read.cpp):
// setDaemon() assigns the address under RpcMu, the mutex its RPC calls
// share, and the getters read it back.
// Bug: daemonAddress() returns a copy of the address with no lock held;
// the copy walks a buffer that a concurrent setDaemon() frees.
// Bug: the same copy through a private helper, reported at the call.
// Clean: hasDaemon() only asks empty(), a single word read (the kind of
// handshake the rule leaves alone); daemonAddressLocked() copies under
// RpcMu; labels() copies a vector that is only written element by element
// under the lock; proxy() copies a string that nothing writes under a lock;
// nodes() copies a vector whose only locked writer is one function's own
// mutex (no other member function takes NodesMu); startRefresh() copies
// the address in the function that starts the refresh thread.
class Wallet {
public:
  void setDaemon(std::string Address);
  void setLabel(std::size_t Index, std::string Label);
  void setProxy(std::string Value);
  void addNode(std::string Node);
  std::string daemonAddress() const;
  std::string daemonAddressLocked() const;
  std::string daemonAddressViaHelper() const;
  bool hasDaemon() const;
  std::vector<std::string> labels() const;
  std::string proxy() const;
  std::vector<std::string> nodes() const;
  void startRefresh();
  void stopRefresh();
  void refresh();

private:
  std::string addressCopy() const;
  mutable std::mutex RpcMu;
  std::mutex NodesMu;
  std::string Address;
  std::vector<std::string> Labels;
  std::string Proxy;
  std::vector<std::string> Nodes;
  std::thread Refresher;
};
