//===- concguard/sharded_map.hpp - lock-sharded concurrent map --*- C++ -*-===//
//
// Part of concguard, header-only, standard library only, C++17 or later.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// concguard::sharded_map: a hash map split into independently locked shards.
///
/// Values go in and come out by copy (get, at, snapshot) or are seen through
/// a callback that runs under the shard's lock (visit, update, upsert,
/// for_each, for_each_mut, erase_if); no reference, pointer or iterator into
/// the map ever escapes, so nothing can dangle when another thread grows it.
///
/// Callbacks run while the shard lock is held: keep them short, and never
/// call back into the same map from inside one (a debug build aborts with a
/// message; a release build may deadlock). A callback that throws leaves the
/// lock released and the map valid.
///
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_SHARDED_MAP_HPP
#define CONCGUARD_SHARDED_MAP_HPP

#include "concguard/detail/common.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace concguard {
namespace detail {

/// Reader-writer spinlock in one 32-bit word: bit 0 = writer holds it,
/// bit 1 = a writer waits (new readers back off, so writers are not starved),
/// the rest counts readers. One atomic read-modify-write to lock and one to
/// unlock in the uncontended case, for readers and writers alike; waiting
/// threads spin briefly and then yield.
class rw_spinlock {
public:
  rw_spinlock() noexcept = default;
  rw_spinlock(const rw_spinlock &) = delete;
  rw_spinlock &operator=(const rw_spinlock &) = delete;

  void lock() noexcept {
    std::uint32_t expected = 0;
    if (state_.compare_exchange_strong(expected, writer,
                                       std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return;
    lock_slow();
  }

  bool try_lock() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(
        expected, writer, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() noexcept {
    state_.fetch_sub(writer, std::memory_order_release);
  }

  void lock_shared() noexcept {
    const std::uint32_t prev =
        state_.fetch_add(reader, std::memory_order_acquire);
    if ((prev & (writer | writer_waiting)) == 0)
      return;
    lock_shared_slow();
  }

  void unlock_shared() noexcept {
    state_.fetch_sub(reader, std::memory_order_release);
  }

private:
  static constexpr std::uint32_t writer = 1;
  static constexpr std::uint32_t writer_waiting = 2;
  static constexpr std::uint32_t reader = 4;

  void lock_slow() noexcept {
    backoff b;
    for (;;) {
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      if ((s & ~writer_waiting) == 0) {
        // Free (possibly with our own or another writer's waiting flag):
        // take it and clear the flag; other waiting writers set it again.
        if (state_.compare_exchange_weak(s, writer, std::memory_order_acquire,
                                         std::memory_order_relaxed))
          return;
        continue;
      }
      if ((s & writer_waiting) == 0)
        state_.fetch_or(writer_waiting, std::memory_order_relaxed);
      b.pause();
    }
  }

  void lock_shared_slow() noexcept {
    backoff b;
    for (;;) {
      // Undo the optimistic increment, wait until no writer holds or waits,
      // then try again.
      state_.fetch_sub(reader, std::memory_order_relaxed);
      while ((state_.load(std::memory_order_relaxed) &
              (writer | writer_waiting)) != 0)
        b.pause();
      const std::uint32_t prev =
          state_.fetch_add(reader, std::memory_order_acquire);
      if ((prev & (writer | writer_waiting)) == 0)
        return;
    }
  }

  std::atomic<std::uint32_t> state_{0};
};

/// Adapts an exclusive-only mutex (std::mutex) to the shared-lock interface:
/// readers take it exclusively. Used to measure the alternative.
template <class Mutex> class exclusive_as_shared {
public:
  void lock() { m_.lock(); }
  void unlock() { m_.unlock(); }
  void lock_shared() { m_.lock(); }
  void unlock_shared() { m_.unlock(); }

private:
  Mutex m_;
};

//===-- Per-shard tables
//----------------------------------------------------===//
//
// Both tables take the mixed 64-bit hash of the key from the caller (computed
// once per operation) and share one interface: find, try_emplace, erase,
// erase_element, erase_if, for_each, size, reserve, swap.

/// Bits of the mixed hash used by the tables: the slot index uses the low
/// bits, the 7-bit tag bits 32..38; the shard index uses the top bits.
inline std::uint8_t hash_tag(std::uint64_t h) noexcept {
  return static_cast<std::uint8_t>((h >> 32) & 0x7f);
}

/// Open-addressing table: linear probing over a power-of-two array of slots
/// holding the elements inline, with one control byte per slot (0x80 = empty,
/// otherwise 7 bits of the hash, so most non-matching slots are skipped
/// without touching the element). Deletion shifts the following elements of
/// the cluster back, so there are no tombstones. A lookup typically touches
/// one control-byte cache line and one element, against three dependent
/// pointer hops in a node-based std::unordered_map. Used when K and V have
/// non-throwing move constructors (elements move on growth and deletion).
template <class K, class V, class Hash, class KeyEqual> class flat_table {
public:
  using element_type = std::pair<K, V>;
  /// What erase() moves the removed element into, so that the caller can
  /// destroy it after releasing the lock.
  using removed_type = std::optional<element_type>;

  static_assert(std::is_nothrow_move_constructible_v<K> &&
                    std::is_nothrow_move_constructible_v<V>,
                "flat_table needs non-throwing moves");

  flat_table(const Hash &h, const KeyEqual &e) : hash_(h), eq_(e) {}

  flat_table(const flat_table &o) : hash_(o.hash_), eq_(o.eq_) {
    if (o.size_ == 0)
      return;
    allocate(o.cap_);
    std::size_t i = 0;
    try {
      for (; i < cap_; ++i)
        if (o.ctrl_[i] != empty_slot) {
          ::new (static_cast<void *>(slots_ + i)) element_type(o.slots_[i]);
          ctrl_[i] = o.ctrl_[i];
        }
    } catch (...) {
      release(); // destroys what was constructed
      throw;
    }
    size_ = o.size_;
  }

  flat_table(flat_table &&o) noexcept : hash_(o.hash_), eq_(o.eq_) { swap(o); }

  flat_table &operator=(flat_table o) noexcept {
    swap(o);
    return *this;
  }

  ~flat_table() { release(); }

  void swap(flat_table &o) noexcept {
    using std::swap;
    swap(ctrl_, o.ctrl_);
    swap(slots_, o.slots_);
    swap(cap_, o.cap_);
    swap(size_, o.size_);
    swap(hash_, o.hash_);
    swap(eq_, o.eq_);
  }

  std::uint64_t hash_of(const K &key) const {
    return mix_hash(static_cast<std::uint64_t>(hash_(key)));
  }
  const Hash &hash_function() const noexcept { return hash_; }
  const KeyEqual &key_eq() const noexcept { return eq_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  element_type *find(const K &key, std::uint64_t h) {
    if (size_ == 0)
      return nullptr;
    const std::uint8_t tag = hash_tag(h);
    const std::size_t mask = cap_ - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;;
         i = (i + 1) & mask) {
      const std::uint8_t c = ctrl_[i];
      if (c == empty_slot)
        return nullptr;
      if (c == tag && eq_(static_cast<const K &>(slots_[i].first), key))
        return slots_ + i;
    }
  }
  const element_type *find(const K &key, std::uint64_t h) const {
    return const_cast<flat_table *>(this)->find(key, h);
  }

  /// Inserts (key, V(args...)) if `key` is absent. Returns the element and
  /// whether it was inserted. If constructing the element throws, the table
  /// is unchanged (apart from possibly having grown).
  template <class KK, class... A>
  std::pair<element_type *, bool> try_emplace(KK &&key, std::uint64_t h,
                                              A &&...args) {
    if (element_type *e = find(key, h))
      return {e, false};
    if (size_ + 1 > max_load(cap_))
      rehash(cap_ == 0 ? min_capacity : cap_ * 2);
    const std::size_t i = free_slot(h);
    ::new (static_cast<void *>(slots_ + i)) element_type(
        std::piecewise_construct, std::forward_as_tuple(std::forward<KK>(key)),
        std::forward_as_tuple(std::forward<A>(args)...));
    ctrl_[i] = hash_tag(h);
    ++size_;
    return {slots_ + i, true};
  }

  /// Removes `key`, moving the element into `out`; returns whether it was
  /// present.
  bool erase(const K &key, std::uint64_t h, removed_type &out) {
    element_type *e = find(key, h);
    if (e == nullptr)
      return false;
    out.emplace(std::move(*e));
    erase_at(static_cast<std::size_t>(e - slots_));
    return true;
  }

  /// Removes the element `e` points to (from find or try_emplace).
  void erase_element(element_type *e) noexcept {
    erase_at(static_cast<std::size_t>(e - slots_));
  }

  /// Removes every element for which pred(const K&, const V&) is true; pred
  /// is called exactly once per element. If it throws, the elements removed
  /// so far stay removed and the table is consistent.
  template <class P> std::size_t erase_if(P &pred) {
    if (size_ == 0)
      return 0;
    // Start right after an empty slot: no cluster crosses it, and a
    // backward shift only moves not-yet-visited elements of the current
    // cluster into the current position or later ones.
    std::size_t start = 0;
    while (ctrl_[start] != empty_slot)
      ++start;
    const std::size_t mask = cap_ - 1;
    std::size_t removed = 0;
    std::size_t i = (start + 1) & mask;
    for (std::size_t visited = 0; visited < cap_;) {
      if (ctrl_[i] != empty_slot &&
          pred(static_cast<const K &>(slots_[i].first),
               static_cast<const V &>(slots_[i].second))) {
        erase_at(i); // an unvisited element may now sit at i: look again
        ++removed;
        continue;
      }
      i = (i + 1) & mask;
      ++visited;
    }
    return removed;
  }

  template <class F> void for_each(F &f) const {
    for (std::size_t i = 0; i < cap_; ++i)
      if (ctrl_[i] != empty_slot)
        f(static_cast<const K &>(slots_[i].first),
          static_cast<const V &>(slots_[i].second));
  }
  template <class F> void for_each_mut(F &f) {
    for (std::size_t i = 0; i < cap_; ++i)
      if (ctrl_[i] != empty_slot)
        f(static_cast<const K &>(slots_[i].first), slots_[i].second);
  }

  void reserve(std::size_t n) {
    if (n <= max_load(cap_))
      return;
    std::size_t cap = cap_ == 0 ? min_capacity : cap_;
    while (max_load(cap) < n)
      cap *= 2;
    if (cap != cap_)
      rehash(cap);
  }

private:
  static constexpr std::uint8_t empty_slot = 0x80;
  static constexpr std::size_t min_capacity = 16;
  static std::size_t max_load(std::size_t cap) noexcept {
    return cap - cap / 4; // 75%
  }

  std::size_t free_slot(std::uint64_t h) const noexcept {
    const std::size_t mask = cap_ - 1;
    std::size_t i = static_cast<std::size_t>(h) & mask;
    while (ctrl_[i] != empty_slot)
      i = (i + 1) & mask;
    return i;
  }

  void erase_at(std::size_t hole) noexcept {
    slots_[hole].~element_type();
    ctrl_[hole] = empty_slot;
    --size_;
    // Backward shift: move each following element of the cluster into the
    // hole unless its home slot lies cyclically in (hole, j].
    const std::size_t mask = cap_ - 1;
    for (std::size_t j = (hole + 1) & mask; ctrl_[j] != empty_slot;
         j = (j + 1) & mask) {
      const std::size_t home =
          static_cast<std::size_t>(hash_of(slots_[j].first)) & mask;
      const std::size_t dist_home = (home - hole) & mask;
      const std::size_t dist_j = (j - hole) & mask;
      if (dist_home != 0 && dist_home <= dist_j)
        continue; // would move before its home slot
      ::new (static_cast<void *>(slots_ + hole))
          element_type(std::move(slots_[j]));
      slots_[j].~element_type();
      ctrl_[hole] = ctrl_[j];
      ctrl_[j] = empty_slot;
      hole = j;
    }
  }

  void allocate(std::size_t cap) {
    std::unique_ptr<std::uint8_t[]> ctrl(new std::uint8_t[cap]);
    std::memset(ctrl.get(), empty_slot, cap);
    slots_ = std::allocator<element_type>().allocate(cap);
    ctrl_ = ctrl.release();
    cap_ = cap;
  }

  /// Destroys every element and frees the arrays.
  void release() noexcept {
    if (ctrl_ == nullptr)
      return;
    if constexpr (!std::is_trivially_destructible_v<element_type>) {
      for (std::size_t i = 0; i < cap_; ++i)
        if (ctrl_[i] != empty_slot)
          slots_[i].~element_type();
    }
    std::allocator<element_type>().deallocate(slots_, cap_);
    delete[] ctrl_;
    ctrl_ = nullptr;
    slots_ = nullptr;
    cap_ = 0;
    size_ = 0;
  }

  void rehash(std::size_t new_cap) {
    flat_table next(hash_, eq_);
    next.allocate(new_cap);
    for (std::size_t i = 0; i < cap_; ++i)
      if (ctrl_[i] != empty_slot) {
        const std::uint64_t h = hash_of(slots_[i].first);
        const std::size_t j = next.free_slot(h);
        ::new (static_cast<void *>(next.slots_ + j))
            element_type(std::move(slots_[i])); // noexcept
        next.ctrl_[j] = ctrl_[i];
        ++next.size_;
      }
    swap(next); // `next` now owns the moved-from elements and frees them
  }

  std::uint8_t *ctrl_ = nullptr;
  element_type *slots_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t size_ = 0;
  Hash hash_;
  KeyEqual eq_;
};

/// Node-based table (std::unordered_map) for element types whose moves may
/// throw: nodes never move, so no operation needs to move an element.
template <class K, class V, class Hash, class KeyEqual> class node_table {
  using map_type = std::unordered_map<K, V, Hash, KeyEqual>;

public:
  using element_type = typename map_type::value_type;
  using removed_type = typename map_type::node_type;

  node_table(const Hash &h, const KeyEqual &e) : map_(0, h, e) {}

  void swap(node_table &o) noexcept { map_.swap(o.map_); }
  std::uint64_t hash_of(const K &key) const {
    return mix_hash(static_cast<std::uint64_t>(map_.hash_function()(key)));
  }
  Hash hash_function() const { return map_.hash_function(); }
  KeyEqual key_eq() const { return map_.key_eq(); }
  std::size_t size() const noexcept { return map_.size(); }
  bool empty() const noexcept { return map_.empty(); }

  element_type *find(const K &key, std::uint64_t) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }
  const element_type *find(const K &key, std::uint64_t) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }
  template <class KK, class... A>
  std::pair<element_type *, bool> try_emplace(KK &&key, std::uint64_t,
                                              A &&...args) {
    auto r = map_.try_emplace(std::forward<KK>(key), std::forward<A>(args)...);
    return {&*r.first, r.second};
  }
  bool erase(const K &key, std::uint64_t, removed_type &out) {
    out = map_.extract(key);
    return !out.empty();
  }
  void erase_element(element_type *e) { map_.erase(e->first); }
  template <class P> std::size_t erase_if(P &pred) {
    std::size_t removed = 0;
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(static_cast<const K &>(it->first),
               static_cast<const V &>(it->second))) {
        it = map_.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }
  template <class F> void for_each(F &f) const {
    for (const auto &kv : map_)
      f(kv.first, static_cast<const V &>(kv.second));
  }
  template <class F> void for_each_mut(F &f) {
    for (auto &kv : map_)
      f(kv.first, kv.second);
  }
  void reserve(std::size_t n) { map_.reserve(n); }

private:
  map_type map_;
};

template <class K, class V, class Hash, class KeyEqual>
using shard_table_t =
    std::conditional_t<std::is_nothrow_move_constructible_v<K> &&
                           std::is_nothrow_move_constructible_v<V>,
                       flat_table<K, V, Hash, KeyEqual>,
                       node_table<K, V, Hash, KeyEqual>>;

/// The implementation of concguard::sharded_map with the per-shard lock as a
/// parameter (`Lock` needs lock/unlock/lock_shared/unlock_shared). Only
/// sharded_map (with detail::rw_spinlock) is public API; the benchmark
/// instantiates this with std::shared_mutex and std::mutex to justify that
/// choice.
template <class K, class V, class Hash, class KeyEqual, class Lock>
class basic_sharded_map {
  using table_type = shard_table_t<K, V, Hash, KeyEqual>;

public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using hasher = Hash;
  using key_equal = KeyEqual;
  using size_type = std::size_t;

  /// Shard count used when none is given. Measured on a 2-core machine (see
  /// docs/runtime.md): with fewer shards two threads collide on one shard
  /// more often; with more, an empty map costs more memory (one cache line
  /// per shard) and size()/for_each/clear get slower.
  static constexpr size_type default_shard_count = 64;
  /// Upper bound on the shard count (larger requests are clamped).
  static constexpr size_type max_shard_count = size_type(1) << 16;

  /// Creates an empty map with `shard_count` shards (rounded up to a power of
  /// two, clamped to [1, max_shard_count]).
  explicit basic_sharded_map(size_type shard_count = default_shard_count,
                             const Hash &hash = Hash(),
                             const KeyEqual &equal = KeyEqual())
      : shards_(round_shard_count(shard_count), hash, equal), hash_(hash),
        eq_(equal) {}

  /// Creates a map holding `init` (later duplicates of a key are ignored, as
  /// with std::unordered_map).
  basic_sharded_map(std::initializer_list<value_type> init,
                    size_type shard_count = default_shard_count,
                    const Hash &hash = Hash(),
                    const KeyEqual &equal = KeyEqual())
      : basic_sharded_map(shard_count, hash, equal) {
    for (const value_type &kv : init)
      insert(kv.first, kv.second);
  }

  /// Copies `other` shard by shard, each under its read lock (not an atomic
  /// snapshot of the whole map if `other` is being written meanwhile).
  basic_sharded_map(const basic_sharded_map &other)
      : shards_(other.shards_.count(), other.hash_, other.eq_),
        hash_(other.hash_), eq_(other.eq_) {
    other.check_entry("sharded_map(const sharded_map&)");
    for (size_type i = 0; i < shards_.count(); ++i) {
      const shard &src = other.shards_[i];
      table_type copy = [&] {
        shared_access a(&other, src);
        return table_type(src.table);
      }();
      shards_[i].table.swap(copy);
    }
  }

  /// Replaces the contents with a copy of `other`'s. Each source shard is
  /// copied under its read lock and each destination shard is replaced under
  /// its write lock; the whole assignment is not atomic. Keeps this map's
  /// shard count.
  basic_sharded_map &operator=(const basic_sharded_map &other) {
    if (this == &other)
      return *this;
    check_entry("operator=");
    other.check_entry("operator=");
    std::vector<table_type> fresh;
    fresh.reserve(shards_.count());
    for (size_type i = 0; i < shards_.count(); ++i)
      fresh.emplace_back(hash_, eq_);
    auto add = [&](const K &k, const V &v) {
      const std::uint64_t h = hash_of(k);
      fresh[index_for_hash(h)].try_emplace(k, h, v);
    };
    for (size_type i = 0; i < other.shards_.count(); ++i) {
      const shard &src = other.shards_[i];
      shared_access a(&other, src);
      src.table.for_each(add);
    }
    for (size_type i = 0; i < shards_.count(); ++i) {
      exclusive_access a(this, shards_[i]);
      shards_[i].table.swap(fresh[i]);
    }
    return *this; // the old contents die with `fresh`, outside the locks
  }

  ~basic_sharded_map() = default;

  //===-- Reads (shared lock of one shard) -------------------------------===//

  /// Returns a copy of the value for `key`, or std::nullopt.
  std::optional<V> get(const K &key) const { return find_copy(key, "get"); }

  /// Returns a copy of the value for `key`; throws std::out_of_range if the
  /// key is absent.
  V at(const K &key) const {
    std::optional<V> v = find_copy(key, "at");
    if (!v)
      throw std::out_of_range("concguard::sharded_map::at: key not found");
    return std::move(*v);
  }

  /// Whether `key` is present.
  bool contains(const K &key) const { return count_impl(key, "contains") != 0; }

  /// 1 if `key` is present, else 0.
  size_type count(const K &key) const { return count_impl(key, "count"); }

  /// Calls `f(const V&)` on the value for `key` under the shard's read lock,
  /// without copying it. Returns whether the key was present (f is not
  /// called otherwise). `f` must not call into this map.
  template <class F> bool visit(const K &key, F &&f) const {
    check_entry("visit");
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    shared_access a(this, s);
    const auto *e = s.table.find(key, h);
    if (e == nullptr)
      return false;
    std::forward<F>(f)(static_cast<const V &>(e->second));
    return true;
  }

  /// Number of elements: the sum of the shard sizes, each read under its
  /// lock (exact when no other thread writes concurrently).
  size_type size() const {
    check_entry("size");
    size_type n = 0;
    for (size_type i = 0; i < shards_.count(); ++i) {
      shared_access a(this, shards_[i]);
      n += shards_[i].table.size();
    }
    return n;
  }

  /// Whether every shard is empty (checked one shard at a time).
  bool empty() const {
    check_entry("empty");
    for (size_type i = 0; i < shards_.count(); ++i) {
      shared_access a(this, shards_[i]);
      if (!shards_[i].table.empty())
        return false;
    }
    return true;
  }

  /// Calls `f(const K&, const V&)` on every element, shard by shard, each
  /// shard under its read lock. This is not a snapshot of the whole map:
  /// writes to shards not yet (or already) visited are (or are not) seen.
  /// `f` must not call into this map.
  template <class F> void for_each(F &&f) const {
    check_entry("for_each");
    for (size_type i = 0; i < shards_.count(); ++i) {
      shared_access a(this, shards_[i]);
      shards_[i].table.for_each(f);
    }
  }

  /// Copies every element into a vector, shard by shard under read locks
  /// (consistent per shard, not across shards).
  std::vector<std::pair<K, V>> snapshot() const {
    check_entry("snapshot");
    std::vector<std::pair<K, V>> out;
    auto add = [&](const K &k, const V &v) { out.emplace_back(k, v); };
    for (size_type i = 0; i < shards_.count(); ++i) {
      shared_access a(this, shards_[i]);
      out.reserve(out.size() + shards_[i].table.size());
      shards_[i].table.for_each(add);
    }
    return out;
  }

  //===-- Writes (exclusive lock of one shard) ---------------------------===//

  /// Calls `f(V&)` on the value for `key` under the shard's write lock if the
  /// key is present; returns whether it was. If f throws, the lock is
  /// released and whatever f already changed stays changed.
  template <class F> bool update(const K &key, F &&f) {
    check_entry("update");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    auto *e = s.table.find(key, h);
    if (e == nullptr)
      return false;
    std::forward<F>(f)(e->second);
    return true;
  }

  /// Inserts a value-initialized V for `key` if absent, then calls `f(V&)` on
  /// the value under the shard's write lock (what `m[k].push_back(x)`
  /// becomes). If f throws on a value it just inserted, that element is
  /// removed again, so the map is as before the call.
  template <class F> void upsert(const K &key, F &&f) {
    check_entry("upsert");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    auto [e, inserted] = s.table.try_emplace(key, h);
    if (!inserted) {
      std::forward<F>(f)(e->second);
      return;
    }
    try {
      std::forward<F>(f)(e->second);
    } catch (...) {
      s.table.erase_element(e);
      throw;
    }
  }

  /// Returns a copy of the value for `key`, inserting a value-initialized V
  /// first if it is absent (what a read of `m[k]` becomes).
  V get_or_insert_default(const K &key) {
    check_entry("get_or_insert_default");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    {
      shared_access a(this, s);
      if (const auto *e = s.table.find(key, h))
        return e->second;
    }
    exclusive_access a(this, s);
    return s.table.try_emplace(key, h).first->second;
  }

  /// Inserts (key, value) if `key` is absent; returns whether it inserted.
  /// An existing value is left unchanged.
  bool insert(K key, V value) {
    check_entry("insert");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    return s.table.try_emplace(std::move(key), h, std::move(value)).second;
  }

  /// Constructs V from `args` and inserts it for `key` if the key is absent;
  /// returns whether it inserted. `args` are not used if the key exists
  /// (same as try_emplace).
  template <class... A> bool emplace(K key, A &&...args) {
    check_entry("emplace");
    return emplace_impl(std::move(key), std::forward<A>(args)...);
  }

  /// Like std::unordered_map::try_emplace: constructs V from `args` only if
  /// `key` is absent; returns whether it inserted.
  template <class... A> bool try_emplace(K key, A &&...args) {
    check_entry("try_emplace");
    return emplace_impl(std::move(key), std::forward<A>(args)...);
  }

  /// Inserts or overwrites the value for `key`; returns true if it inserted,
  /// false if it assigned over an existing value.
  bool insert_or_assign(K key, V value) {
    check_entry("insert_or_assign");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    if (auto *e = s.table.find(key, h)) {
      e->second = std::move(value);
      return false;
    }
    s.table.try_emplace(std::move(key), h, std::move(value));
    return true;
  }

  /// Removes `key`; returns the number of elements removed (0 or 1). The
  /// element is destroyed after the lock is released.
  size_type erase(const K &key) {
    check_entry("erase");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    typename table_type::removed_type removed; // dies after the unlock
    exclusive_access a(this, s);
    return s.table.erase(key, h, removed) ? 1 : 0;
  }

  /// Removes every element for which `pred(const K&, const V&)` is true,
  /// shard by shard under write locks; returns how many it removed. If pred
  /// throws, the lock is released and the elements removed so far stay
  /// removed.
  template <class P> size_type erase_if(P &&pred) {
    check_entry("erase_if");
    size_type removed = 0;
    for (size_type i = 0; i < shards_.count(); ++i) {
      exclusive_access a(this, shards_[i]);
      removed += shards_[i].table.erase_if(pred);
    }
    return removed;
  }

  /// Calls `f(const K&, V&)` on every element, shard by shard, each under its
  /// write lock. Not atomic across shards. `f` must not call into this map.
  template <class F> void for_each_mut(F &&f) {
    check_entry("for_each_mut");
    for (size_type i = 0; i < shards_.count(); ++i) {
      exclusive_access a(this, shards_[i]);
      shards_[i].table.for_each_mut(f);
    }
  }

  /// Removes every element, shard by shard (elements are destroyed outside
  /// the locks). Not atomic across shards.
  void clear() {
    check_entry("clear");
    for (size_type i = 0; i < shards_.count(); ++i) {
      table_type old(hash_, eq_);
      exclusive_access a(this, shards_[i]);
      shards_[i].table.swap(old);
    }
  }

  /// Prepares room for `n` elements in total, spread over the shards.
  void reserve(size_type n) {
    check_entry("reserve");
    const size_type count = shards_.count();
    size_type per_shard = (n + count - 1) / count;
    per_shard += per_shard / 8 + (n != 0 ? 4 : 0); // slack for uneven spread
    for (size_type i = 0; i < count; ++i) {
      exclusive_access a(this, shards_[i]);
      shards_[i].table.reserve(per_shard);
    }
  }

  //===-- Introspection ---------------------------------------------------===//

  /// Number of shards (a power of two).
  size_type shard_count() const noexcept { return shards_.count(); }

  /// Index of the shard that holds `key`, in [0, shard_count()).
  size_type shard_of(const K &key) const {
    return index_for_hash(hash_of(key));
  }

  /// A copy of the hash function.
  hasher hash_function() const { return hash_; }

  /// A copy of the key equality predicate.
  key_equal key_eq() const { return eq_; }

private:
  struct alignas(cache_line_size) shard {
    shard(const Hash &h, const KeyEqual &e) : table(h, e) {}
    mutable Lock lock;
    table_type table;
  };

  /// A fixed array of shards, allocated once, each on its own cache line(s).
  class shard_array {
  public:
    shard_array(size_type n, const Hash &h, const KeyEqual &e)
        : data_(std::allocator<shard>().allocate(n)), count_(n) {
      size_type built = 0;
      try {
        for (; built < n; ++built)
          ::new (static_cast<void *>(data_ + built)) shard(h, e);
      } catch (...) {
        destroy(built);
        throw;
      }
      for (size_type b = count_; b > 1; b >>= 1)
        ++bits_;
    }
    ~shard_array() { destroy(count_); }
    shard_array(const shard_array &) = delete;
    shard_array &operator=(const shard_array &) = delete;

    shard &operator[](size_type i) noexcept { return data_[i]; }
    const shard &operator[](size_type i) const noexcept { return data_[i]; }
    size_type count() const noexcept { return count_; }
    unsigned bits() const noexcept { return bits_; }

  private:
    void destroy(size_type built) noexcept {
      for (size_type i = built; i > 0; --i)
        data_[i - 1].~shard();
      std::allocator<shard>().deallocate(data_, count_);
    }
    shard *data_;
    size_type count_;
    unsigned bits_ = 0;
  };

  static constexpr bool checks = CONCGUARD_REENTRANCY_CHECKS != 0;
  using marker = hold_marker<checks>;

  /// Read lock of one shard plus the debug "held" mark.
  class shared_access {
  public:
    shared_access(const basic_sharded_map *m, const shard &s)
        : s_(s), mark_(m) {
      s_.lock.lock_shared();
    }
    ~shared_access() { s_.lock.unlock_shared(); }
    shared_access(const shared_access &) = delete;
    shared_access &operator=(const shared_access &) = delete;

  private:
    const shard &s_;
    marker mark_;
  };

  /// Write lock of one shard plus the debug "held" mark.
  class exclusive_access {
  public:
    exclusive_access(const basic_sharded_map *m, const shard &s)
        : s_(s), mark_(m) {
      s_.lock.lock();
    }
    ~exclusive_access() { s_.lock.unlock(); }
    exclusive_access(const exclusive_access &) = delete;
    exclusive_access &operator=(const exclusive_access &) = delete;

  private:
    const shard &s_;
    marker mark_;
  };

  void check_entry(const char *operation) const noexcept {
    check_not_reentrant<checks>(this, "concguard::sharded_map", operation);
  }

  std::optional<V> find_copy(const K &key, const char *operation) const {
    check_entry(operation);
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    shared_access a(this, s);
    const auto *e = s.table.find(key, h);
    if (e == nullptr)
      return std::nullopt;
    return std::optional<V>(e->second);
  }

  size_type count_impl(const K &key, const char *operation) const {
    check_entry(operation);
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    shared_access a(this, s);
    return s.table.find(key, h) != nullptr ? 1 : 0;
  }

  template <class... A> bool emplace_impl(K &&key, A &&...args) {
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    return s.table.try_emplace(std::move(key), h, std::forward<A>(args)...)
        .second;
  }

  static size_type round_shard_count(size_type n) noexcept {
    if (n <= 1)
      return 1;
    if (n >= max_shard_count)
      return max_shard_count;
    size_type p = 1;
    while (p < n)
      p <<= 1;
    return p;
  }

  /// The mixed hash, computed once per operation from this map's own
  /// (immutable) copy of the hash function; each table holds another copy,
  /// used only under its shard's lock, and computes the same value.
  std::uint64_t hash_of(const K &key) const {
    return mix_hash(static_cast<std::uint64_t>(hash_(key)));
  }

  /// The shard index takes the top bits of the mixed hash; the tables use
  /// the low bits and bits 32..38, so the three are independent.
  size_type index_for_hash(std::uint64_t h) const noexcept {
    const unsigned bits = shards_.bits();
    return bits == 0 ? 0 : static_cast<size_type>(h >> (64 - bits));
  }
  shard &shard_for_hash(std::uint64_t h) { return shards_[index_for_hash(h)]; }
  const shard &shard_for_hash(std::uint64_t h) const {
    return shards_[index_for_hash(h)];
  }

  shard_array shards_;
  Hash hash_;
  KeyEqual eq_;
};

} // namespace detail

/// A concurrent hash map made of independently locked shards, each a
/// std::unordered_map<K, V, Hash, KeyEqual> behind a reader-writer spinlock on
/// its own cache line. The shard of a key is chosen from a mixed hash, so
/// keys that differ only in their high bits (pointers, multiples of a power
/// of two) still spread.
///
/// Guarantees:
/// - Every member function is safe to call concurrently with any other,
///   except destruction (and assignment to the same map from two threads,
///   which is safe but its result is unspecified).
/// - No reference into the map escapes: reads return copies (get, at,
///   get_or_insert_default, snapshot) or run a callback under the lock
///   (visit, update, upsert, for_each, for_each_mut, erase_if).
/// - Callbacks run under a shard lock and must not call back into the same
///   map; a debug build (CONCGUARD_REENTRANCY_CHECKS, on unless NDEBUG)
///   aborts with a message naming the operation, a release build may
///   deadlock.
/// - If a callback (or a copy/move of K or V) throws, the lock is released
///   and the map stays valid (see each operation for what changed).
/// - Operations over all shards (size, empty, for_each, for_each_mut,
///   erase_if, clear, snapshot, copy) visit one shard at a time; they are not
///   atomic with respect to concurrent writers.
template <class K, class V, class Hash = std::hash<K>,
          class KeyEqual = std::equal_to<K>>
class sharded_map : public detail::basic_sharded_map<K, V, Hash, KeyEqual,
                                                     detail::rw_spinlock> {
  using base =
      detail::basic_sharded_map<K, V, Hash, KeyEqual, detail::rw_spinlock>;

public:
  using base::base;
};

} // namespace concguard

#endif // CONCGUARD_SHARDED_MAP_HPP
