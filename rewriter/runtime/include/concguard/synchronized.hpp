//===- concguard/synchronized.hpp - a value behind its own lock -*- C++ -*-===//
//
// Part of concguard. Header-only, standard library only, C++17.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// concguard::synchronized<T>: any value (a vector, deque, list, string,
/// set, a struct) behind its own reader-writer lock, in the spirit of
/// folly::Synchronized and Go's mutex-plus-value. The value is reached only
/// through a callback that runs under the lock, or as a copy: no reference,
/// pointer or iterator into it leaves the lock.
///
///   concguard::synchronized<std::vector<int>> v;
///   v.with_lock([&](auto &x) { x.push_back(1); });          // write lock
///   auto n = v.with_shared_lock([](const auto &x) { return x.size(); });
///   std::vector<int> all = v.copy();                        // shared lock
///
/// Callbacks must not call the same object again (it would deadlock); in
/// debug builds (CONCGUARD_REENTRANCY_CHECKS) such a call aborts with a
/// message, as for the maps.
///
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_SYNCHRONIZED_HPP
#define CONCGUARD_SYNCHRONIZED_HPP

#include "concguard/detail/common.hpp"

#include <functional>
#include <mutex>
#include <shared_mutex>
#include <type_traits>
#include <utility>

namespace concguard {

template <class T, class Mutex = std::shared_mutex> class synchronized {
public:
  using value_type = T;

  synchronized() = default;
  /// Takes \p value (copied or moved in).
  explicit synchronized(T value) : value_(std::move(value)) {}
  /// Constructs the value in place from \p args.
  template <class... Args>
  explicit synchronized(std::in_place_t, Args &&...args)
      : value_(std::forward<Args>(args)...) {}

  /// Copies the other object's value under its shared lock.
  synchronized(const synchronized &other) : value_(other.copy()) {}
  /// Copies the other object's value, then replaces this one's under its
  /// lock (never both locks at once: no lock-order deadlock).
  synchronized &operator=(const synchronized &other) {
    if (this != &other)
      assign(other.copy());
    return *this;
  }

  /// Runs \p f(T&) under the write lock and returns what it returns, which
  /// must not be a reference or a pointer (it would outlive the lock).
  template <class F> auto with_lock(F &&f) -> std::invoke_result_t<F, T &> {
    using Result = std::invoke_result_t<F, T &>;
    static_assert(!std::is_reference_v<Result> && !std::is_pointer_v<Result>,
                  "concguard::synchronized::with_lock: the callback returns "
                  "a reference or a pointer, which would outlive the lock; "
                  "return a copy");
    detail::check_not_reentrant(this, "concguard::synchronized", "with_lock");
    std::unique_lock<Mutex> lock(mutex_);
    detail::hold_marker<> held(this);
    return std::invoke(std::forward<F>(f), value_);
  }

  /// Runs \p f(const T&) under the shared (read) lock, as with_lock.
  template <class F>
  auto with_shared_lock(F &&f) const -> std::invoke_result_t<F, const T &> {
    using Result = std::invoke_result_t<F, const T &>;
    static_assert(!std::is_reference_v<Result> && !std::is_pointer_v<Result>,
                  "concguard::synchronized::with_shared_lock: the callback "
                  "returns a reference or a pointer, which would outlive the "
                  "lock; return a copy");
    detail::check_not_reentrant(this, "concguard::synchronized",
                                "with_shared_lock");
    std::shared_lock<Mutex> lock(mutex_);
    detail::hold_marker<> held(this);
    return std::invoke(std::forward<F>(f), std::as_const(value_));
  }

  /// A copy of the value, taken under the shared lock.
  T copy() const {
    return with_shared_lock([](const T &value) { return value; });
  }

  /// Replaces the value under the write lock; the old value is destroyed
  /// after the lock is released.
  void assign(T value) {
    with_lock([&](T &current) { std::swap(current, value); });
  }

private:
  mutable Mutex mutex_;
  T value_{};
};

} // namespace concguard

#endif // CONCGUARD_SYNCHRONIZED_HPP
