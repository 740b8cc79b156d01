// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t
// RUN: %check_concguard -std=c++14 %s concguard-escaping-guarded-reference %t

// References to objects that a lock-guarded container owns through smart
// pointers, handed out past the lock, and references formed in an unlocked
// helper that a locking function returns. Shaped after Poco's Logger
// (Logger.cpp): get() takes _mapMtx and returns unsafeGet(name), which
// returns *pLogger for an AutoPtr copied out of the static logger map by
// find(); destroy() and shutdown() drop the map's pointer on another thread,
// and the reference dangles (poco#5324).

#include <map>
#include <memory>
#include <mutex>
#include <string>

// A project's own reference-counted pointer, recognised by its shape
// (operator*, operator->, a pointer member and a destructor of its own).
template <class T> class AutoPtr {
public:
  AutoPtr() = default;
  AutoPtr(T *Ptr) : Ptr(Ptr) {}
  AutoPtr(const AutoPtr &Other) : Ptr(Other.Ptr) { retain(); }
  AutoPtr &operator=(const AutoPtr &Other) {
    Ptr = Other.Ptr;
    retain();
    return *this;
  }
  ~AutoPtr() {
    if (Ptr)
      Ptr->release();
  }
  T &operator*() const { return *Ptr; }
  T *operator->() const { return Ptr; }
  T *get() const { return Ptr; }
  explicit operator bool() const { return Ptr != nullptr; }

private:
  void retain() {
    if (Ptr)
      Ptr->duplicate();
  }
  T *Ptr = nullptr;
};

class Logger {
public:
  using Ptr = AutoPtr<Logger>;

  static Logger &get(const std::string &Name) {
    std::lock_guard<std::mutex> Lock(MapMutex);
    return unsafeGet(Name);
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference to an object owned by 'Logger::Loggers' outlives the lock on 'Logger::MapMutex' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Logger::MapMutex' taken here
    // CHECK-NOTES: :[[@LINE+11]]:12: note: the reference is formed in 'Logger::unsafeGet' here
    // CHECK-NOTES: :[[@LINE+58]]:7: note: 'Logger::Loggers' may destroy the object here
    // CHECK-NOTES: :[[@LINE-5]]:5: note: 'Lock' releases 'Logger::MapMutex' here, when the function returns
  }

  static Logger &unsafeGet(const std::string &Name) {
    Ptr Found = find(Name);
    if (!Found) {
      Found = new Logger(Name);
      add(Found);
    }
    return *Found;
  }

  // The fix upstream made: the caller gets its own reference count.
  static Ptr getShared(const std::string &Name) {
    std::lock_guard<std::mutex> Lock(MapMutex);
    return find(Name);
  }

  // A reference used while the local copy still owns the object.
  static std::size_t nameLength(const std::string &Name) {
    Ptr Found;
    {
      std::lock_guard<std::mutex> Lock(MapMutex);
      Found = find(Name);
    }
    if (!Found)
      return 0;
    Logger &L = *Found;
    return L.Name.size();
  }

  // The local copy keeps the object alive while it is used.
  static std::size_t nameLengthAfterUnlock(const std::string &Name) {
    std::unique_lock<std::mutex> Lock(MapMutex);
    Ptr Found = find(Name);
    Lock.unlock();
    return Found ? Found->Name.size() : 0;
  }

  // ... but not past the return.
  static Logger &getAfterUnlock(const std::string &Name) {
    Ptr Found;
    {
      std::lock_guard<std::mutex> Lock(MapMutex);
      Found = find(Name);
    }
    return *Found;
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference to an object owned by 'Logger::Loggers' outlives the lock on 'Logger::MapMutex' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:7: note: lock on 'Logger::MapMutex' taken here
    // CHECK-NOTES: :[[@LINE+8]]:7: note: 'Logger::Loggers' may destroy the object here
    // CHECK-NOTES: :[[@LINE-5]]:5: note: 'Lock' releases 'Logger::MapMutex' here, at the end of its scope
  }

  static void destroy(const std::string &Name) {
    std::lock_guard<std::mutex> Lock(MapMutex);
    auto It = Loggers.find(Name);
    if (It != Loggers.end())
      Loggers.erase(It);
  }

  void duplicate() {}
  void release() {}

private:
  explicit Logger(std::string Name) : Name(std::move(Name)) {}

  static Ptr find(const std::string &Name) {
    auto It = Loggers.find(Name);
    if (It != Loggers.end())
      return It->second;
    return Ptr();
  }
  static void add(Ptr Logger) { Loggers.emplace(Logger->Name, Logger); }

  std::string Name;
  static std::map<std::string, Ptr> Loggers;
  static std::mutex MapMutex;
};

// std::unique_ptr elements: the map owns each object alone.
class Registry {
public:
  struct Entry {
    int Value = 0;
  };

  Entry &entry(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    return *Entries[Key];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference to an object owned by 'Entries' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE+6]]:5: note: 'Entries' may destroy the object here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  void remove(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    Entries.erase(Key);
  }

private:
  std::mutex Mu;
  std::map<int, std::unique_ptr<Entry>> Entries;
};

// Elements are never removed: the objects live as long as the registry, and
// handing out a reference to one is the point of holding them by pointer.
class StableRegistry {
public:
  struct Entry {
    std::mutex Mu;
    int Value = 0;
  };

  Entry &entry(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    auto &Slot = Entries[Key];
    if (!Slot)
      Slot = std::make_unique<Entry>();
    return *Slot;
  }

  Entry &unsafeEntry(int Key) { return *Entries.at(Key); }

  Entry &lockedEntry(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    return unsafeEntry(Key);
  }

private:
  std::mutex Mu;
  std::map<int, std::unique_ptr<Entry>> Entries;
};

// A helper that returns a reference to an element: returned by a locking
// caller, it outlives the lock as if the caller had formed it.
class Table {
public:
  std::string &cell(int Key) { return Cells[Key]; }

  // The fix-it returns a copy made under the lock.
  const std::string &lockedCell(int Key) {
    // CHECK-FIXES: {{^}}  std::string lockedCell(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    return cell(Key);
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Cells' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:3: note: FIX-IT applied suggested code changes
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-10]]:39: note: the reference is formed in 'Table::cell' here
    // CHECK-NOTES: :[[@LINE-5]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  // The helper called on another object: its Cells is not this one's.
  const std::string &otherCell(Table &Other, int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Other.cell(Key);
  }

  // A copy leaves nothing behind.
  std::string copiedCell(int Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    return cell(Key);
  }

private:
  std::mutex Mu;
  std::map<int, std::string> Cells;
};

// A container held through a smart pointer member is guarded storage like
// the member itself: an iterator into it escapes, whether or not the
// pointer is ever reset.
class Holder {
public:
  std::map<int, int>::iterator first() {
    std::lock_guard<std::mutex> Lock(Mu);
    return Map->begin();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned iterator into 'Map' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

private:
  std::mutex Mu;
  std::unique_ptr<std::map<int, int>> Map = std::make_unique<std::map<int, int>>();
};
