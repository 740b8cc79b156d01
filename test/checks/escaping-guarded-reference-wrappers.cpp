// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// A project's own container, recognised by its shape: a class that wraps a
// standard container and hands out references, pointers or iterators into
// it from its methods (a ring buffer whose front() returns T*, a slab). A
// handle from such a method on lock-guarded data escapes the lock exactly
// as one from the standard container would; nothing needs configuring.

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

template <class T> class RingBuffer {
public:
  T *front() { return &Items[Head]; }
  T &back() { return Items.back(); }
  typename std::vector<T>::iterator begin() { return Items.begin(); }
  void push(T Value) { Items.push_back(std::move(Value)); }
  std::size_t size() const { return Items.size(); }

private:
  std::vector<T> Items;
  std::size_t Head = 0;
};

// Takes a lock of its own: the reference it returns escapes that lock, which
// is reported here, and not again where a caller passes it on.
class LockedSlab {
public:
  std::string &at(std::size_t I) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Slots[I];
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned reference into 'Slots' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-3]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

private:
  std::mutex Mu;
  std::vector<std::string> Slots;
};

class Mailbox {
public:
  const std::string *peek() {
    std::lock_guard<std::mutex> Lock(Mu);
    return Queue.front();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: returned pointer into 'Queue' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-35]]:23: note: the pointer is formed in 'RingBuffer<{{.*}}>::front' here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Lock' releases 'Mu' here, when the function returns
  }

  std::size_t lastLength() {
    std::unique_lock<std::mutex> Lock(Mu);
    std::string &Last = Queue.back();
    Lock.unlock();
    return Last.size();
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: 'Last' refers into 'Queue' and is used after the lock on 'Mu' that guards it is released [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE-4]]:5: note: 'Mu' is released here
  }

  // Copies and sizes leave nothing behind.
  std::string peekCopy() {
    std::lock_guard<std::mutex> Lock(Mu);
    return *Queue.front();
  }
  std::size_t size() {
    std::lock_guard<std::mutex> Lock(Mu);
    return Queue.size();
  }

  // A wrapper that locks for itself (above).
  std::string &slot(std::size_t I) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Slab.at(I);
  }

  // A buffer reached through a parameter is not guarded by this lock.
  const std::string *peekOther(RingBuffer<std::string> &Other) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Other.front();
  }

  void push(std::string Message) {
    std::lock_guard<std::mutex> Lock(Mu);
    Queue.push(std::move(Message));
  }

private:
  std::mutex Mu;
  RingBuffer<std::string> Queue;
  LockedSlab Slab;
};
