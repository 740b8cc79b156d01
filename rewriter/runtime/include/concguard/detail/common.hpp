//===- concguard/detail/common.hpp - shared runtime internals ---*- C++ -*-===//
//
// Part of concguard. Internal helpers shared by sharded_map and snapshot_map:
// the debug re-entrancy record, a spin back-off and the shard hash mixer.
// Nothing here is public API; it may change without notice.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_DETAIL_COMMON_HPP
#define CONCGUARD_DETAIL_COMMON_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <type_traits>

/// \def CONCGUARD_REENTRANCY_CHECKS
/// When non-zero, every public operation of concguard::sharded_map and
/// concguard::snapshot_map checks that the calling thread is not currently
/// inside a callback that holds a lock of the same map, and aborts with a
/// message naming the map type and the operation if it is. Defaults to on
/// unless NDEBUG is defined (like assert). Define it to 0 or 1 before
/// including any concguard header to override; use the same value in every
/// translation unit of a program.
#ifndef CONCGUARD_REENTRANCY_CHECKS
#ifdef NDEBUG
#define CONCGUARD_REENTRANCY_CHECKS 0
#else
#define CONCGUARD_REENTRANCY_CHECKS 1
#endif
#endif

namespace concguard {
namespace detail {

/// Size the runtime assumes for a cache line when separating hot data.
inline constexpr std::size_t cache_line_size = 64;

/// One CPU "pause" hint inside a spin loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

/// Exponential spin back-off that yields the CPU after a short while: on a
/// machine with few cores the lock holder may be descheduled, and spinning
/// then only burns the time slice it needs.
class backoff {
public:
  void pause() noexcept {
    if (step_ < spin_steps) {
      for (unsigned i = 0; i < (1u << step_); ++i)
        cpu_relax();
      ++step_;
    } else {
      std::this_thread::yield();
    }
  }

private:
  static constexpr unsigned spin_steps = 6; // 1+2+...+32 pauses, then yield
  unsigned step_ = 0;
};

/// Mixes a std::size_t hash so that every input bit affects the low output
/// bits (keys that differ only in high bits, and hashes that are the identity
/// as std::hash<integer> is in libstdc++, still spread over the shards).
inline std::uint64_t mix_hash(std::uint64_t x) noexcept {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

/// Whether `T` declares `is_transparent` (a hash or equality that accepts
/// other key types, as std::hash<std::string_view>-style heterogeneous
/// lookup needs).
template <class T, class = void> struct has_is_transparent : std::false_type {};
template <class T>
struct has_is_transparent<T, std::void_t<typename T::is_transparent>>
    : std::true_type {};

/// Whether a lookup by a `Q` (not necessarily a key) is allowed: both the
/// hash and the equality are transparent. Depends on `Q` so that it can
/// disable a member template.
template <class Hash, class KeyEqual, class Q>
inline constexpr bool transparent_lookup =
    has_is_transparent<Hash>::value && has_is_transparent<KeyEqual>::value &&
    !std::is_void_v<Q>;

/// Calls a visitor on an element: `f(key, value)` if it accepts the key as
/// well, else `f(value)`. Lets every callback-taking member accept both.
template <class F, class Key, class Value>
decltype(auto) call_visitor(F &f, const Key &key, Value &value) {
  if constexpr (std::is_invocable_v<F &, const Key &, Value &>)
    return f(key, value);
  else
    return f(value);
}

/// Calls an element callback `f(key, value)` and says whether to go on: a
/// callback returning void always goes on, one returning bool stops the
/// iteration by returning false.
template <class F, class Key, class Value>
bool call_continue(F &f, const Key &key, Value &value) {
  if constexpr (std::is_void_v<
                    std::invoke_result_t<F &, const Key &, Value &>>) {
    f(key, value);
    return true;
  } else {
    return static_cast<bool>(f(key, value));
  }
}

//===-- Debug re-entrancy record -----------------------------------------===//

/// Per-thread list of maps whose lock this thread holds right now (while a
/// callback runs). Trivially constructible so the thread_local costs nothing
/// to set up. Deeper nesting than `capacity` is counted but not recorded, so
/// it can only miss a re-entrant call, never report a false one.
struct held_maps {
  static constexpr unsigned capacity = 32;
  const void *maps[capacity];
  unsigned depth;
};

inline held_maps &held_by_this_thread() noexcept {
  thread_local held_maps record{};
  return record;
}

inline bool is_held_by_this_thread(const void *map) noexcept {
  const held_maps &h = held_by_this_thread();
  const unsigned n =
      h.depth < held_maps::capacity ? h.depth : held_maps::capacity;
  for (unsigned i = 0; i < n; ++i)
    if (h.maps[i] == map)
      return true;
  return false;
}

[[noreturn]] inline void report_reentrant_call(const char *type,
                                               const char *operation) noexcept {
  std::fprintf(stderr,
               "concguard: re-entrant call to %s::%s() from inside a callback "
               "running under a lock of the same map (visit/update/upsert/"
               "for_each/for_each_mut/erase_if). This would deadlock or act on "
               "inconsistent state. Collect what you need inside the callback "
               "and call the map after it returns.\n",
               type, operation);
  std::fflush(stderr);
  std::abort();
}

/// Aborts with a clear message if this thread holds a lock of `map`.
template <bool Enabled = (CONCGUARD_REENTRANCY_CHECKS != 0)>
inline void check_not_reentrant(const void *map, const char *type,
                                const char *operation) noexcept {
  if constexpr (Enabled) {
    if (is_held_by_this_thread(map))
      report_reentrant_call(type, operation);
  } else {
    (void)map;
    (void)type;
    (void)operation;
  }
}

/// RAII marker: "this thread holds a lock of `map`" for its lifetime.
template <bool Enabled = (CONCGUARD_REENTRANCY_CHECKS != 0)> class hold_marker {
public:
  explicit hold_marker(const void *map) noexcept {
    held_maps &h = held_by_this_thread();
    if (h.depth < held_maps::capacity)
      h.maps[h.depth] = map;
    ++h.depth;
  }
  ~hold_marker() { --held_by_this_thread().depth; }
  hold_marker(const hold_marker &) = delete;
  hold_marker &operator=(const hold_marker &) = delete;
};

template <> class hold_marker<false> {
public:
  explicit hold_marker(const void *) noexcept {}
  hold_marker(const hold_marker &) = delete;
  hold_marker &operator=(const hold_marker &) = delete;
};

} // namespace detail
} // namespace concguard

#endif // CONCGUARD_DETAIL_COMMON_HPP
