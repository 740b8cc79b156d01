// RUN: %check_concguard -std=c++20 %s concguard-escaping-guarded-reference %t

// The fix-it turns a non-virtual accessor returning `const T &` of a
// copyable T into one returning `T`, in the declaration and the definition.
// Callers that bind `const auto &` to the result still compile (lifetime
// extension) and now hold a copy.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct Entry {
  std::string Name;
  int Hits = 0;
};

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const { return 0; }
};

class Service {
public:
  const std::string &name() const;
  // CHECK-FIXES: {{^}}  std::string name() const;{{$}}

  std::string const &label() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Label;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Label' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
  }
  // CHECK-FIXES: {{^}}  std::string label() const {{{$}}

  const int& count() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Count;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Count'
  }
  // CHECK-FIXES: {{^}}  int count() const {{{$}}

  const Entry &entry(int K) const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Entries.at(K);
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Entries'
  }
  // CHECK-FIXES: {{^}}  Entry entry(int K) const {{{$}}

  // Deduced and trailing return types.
  const auto &deduced() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Label;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Label'
  }
  // CHECK-FIXES: {{^}}  auto deduced() const {{{$}}
  auto trailing() const -> const std::string & {
    std::lock_guard<std::mutex> Lock(Mu);
    return Label;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Label'
  }
  // CHECK-FIXES: {{^}}  auto trailing() const -> std::string {{{$}}

  // Virtual: the fix would change every override's signature. No fix.
  virtual const std::string &title() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Label;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Label'
  }
  // CHECK-FIXES: {{^}}  virtual const std::string &title() const {{{$}}

  // Not copyable: no fix.
  const std::unique_ptr<int> &slot() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Slot;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Slot'
  }
  // CHECK-FIXES: {{^}}  const std::unique_ptr<int> &slot() const {{{$}}

  // A polymorphic type would be sliced by the copy. No fix.
  const Shape &shape() const {
    std::lock_guard<std::mutex> Lock(Mu);
    return Shapes.at(0);
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Shapes'
  }
  // CHECK-FIXES: {{^}}  const Shape &shape() const {{{$}}

  // A mutable reference: callers may write through it. No fix.
  std::string &mutableName() {
    std::lock_guard<std::mutex> Lock(Mu);
    return Label;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Label'
  }
  // CHECK-FIXES: {{^}}  std::string &mutableName() {{{$}}

  virtual ~Service() = default;

private:
  mutable std::mutex Mu;
  std::string Label;
  std::string Name;
  int Count = 0;
  std::map<int, Entry> Entries;
  std::unique_ptr<int> Slot;
  std::vector<Shape> Shapes;
};

const std::string &Service::name() const {
  std::lock_guard<std::mutex> Lock(Mu);
  return Name;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: returned reference into 'Name' outlives the lock on 'Mu'
}
// CHECK-FIXES: {{^}}std::string Service::name() const {{{$}}

// A class template: reported once for all its instantiations, never fixed
// (the pattern's return type is shared by every instantiation).
template <typename V> class Cache {
public:
  const V &get(int K) {
    std::lock_guard<std::mutex> Lock(Mu);
    return Map.at(K);
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned reference into 'Map' outlives the lock on 'Mu'
  }
  // CHECK-FIXES: {{^}}  const V &get(int K) {{{$}}

private:
  std::mutex Mu;
  std::map<int, V> Map;
};

size_t callers(const Service &S, Cache<int> &A, Cache<std::string> &B) {
  const auto &N = S.name();
  const auto &L = S.label();
  const auto &C = S.count();
  const auto &E = S.entry(1);
  auto Copy = S.name();
  const auto &D = S.deduced();
  const auto &T = S.trailing();
  return N.size() + L.size() + static_cast<size_t>(C) + E.Name.size() +
         Copy.size() + D.size() + T.size() + static_cast<size_t>(A.get(1)) + B.get(2).size();
}
