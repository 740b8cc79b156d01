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
template <class K, class V, class Hash, class KeyEqual, class Alloc>
class flat_table {
public:
  using element_type = std::pair<K, V>;
  /// What erase() moves the removed element into, so that the caller can
  /// destroy it after releasing the lock.
  using removed_type = std::optional<element_type>;

  static_assert(std::is_nothrow_move_constructible_v<K> &&
                    std::is_nothrow_move_constructible_v<V>,
                "flat_table needs non-throwing moves");

  flat_table(const Hash &h, const KeyEqual &e, const Alloc &a)
      : hash_(h), eq_(e), alloc_(a) {}

  flat_table(const flat_table &o)
      : hash_(o.hash_), eq_(o.eq_),
        alloc_(std::allocator_traits<element_alloc>::
                   select_on_container_copy_construction(o.alloc_)) {
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

  flat_table(flat_table &&o) noexcept
      : hash_(o.hash_), eq_(o.eq_), alloc_(o.alloc_) {
    swap(o);
  }

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
    swap(alloc_, o.alloc_);
  }

  template <class Q> std::uint64_t hash_of(const Q &key) const {
    return mix_hash(static_cast<std::uint64_t>(hash_(key)));
  }
  const Hash &hash_function() const noexcept { return hash_; }
  const KeyEqual &key_eq() const noexcept { return eq_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  template <class Q> element_type *find(const Q &key, std::uint64_t h) {
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
  template <class Q>
  const element_type *find(const Q &key, std::uint64_t h) const {
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
  template <class Q>
  bool erase(const Q &key, std::uint64_t h, removed_type &out) {
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
  /// Calls f(const K&, const V&) until it returns false; returns false if
  /// it stopped early.
  template <class F> bool for_each_while(F &f) const {
    for (std::size_t i = 0; i < cap_; ++i)
      if (ctrl_[i] != empty_slot &&
          !f(static_cast<const K &>(slots_[i].first),
             static_cast<const V &>(slots_[i].second)))
        return false;
    return true;
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
    byte_alloc bytes(alloc_);
    std::uint8_t *ctrl =
        std::allocator_traits<byte_alloc>::allocate(bytes, cap);
    try {
      slots_ = std::allocator_traits<element_alloc>::allocate(alloc_, cap);
    } catch (...) {
      std::allocator_traits<byte_alloc>::deallocate(bytes, ctrl, cap);
      throw;
    }
    std::memset(ctrl, empty_slot, cap);
    ctrl_ = ctrl;
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
    std::allocator_traits<element_alloc>::deallocate(alloc_, slots_, cap_);
    byte_alloc bytes(alloc_);
    std::allocator_traits<byte_alloc>::deallocate(bytes, ctrl_, cap_);
    ctrl_ = nullptr;
    slots_ = nullptr;
    cap_ = 0;
    size_ = 0;
  }

  void rehash(std::size_t new_cap) {
    flat_table next(hash_, eq_, alloc_);
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

  using element_alloc = typename std::allocator_traits<
      Alloc>::template rebind_alloc<element_type>;
  using byte_alloc = typename std::allocator_traits<
      Alloc>::template rebind_alloc<std::uint8_t>;

  std::uint8_t *ctrl_ = nullptr;
  element_type *slots_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t size_ = 0;
  Hash hash_;
  KeyEqual eq_;
  element_alloc alloc_;
};

/// Node-based table (std::unordered_map) for element types whose moves may
/// throw: nodes never move, so no operation needs to move an element.
template <class K, class V, class Hash, class KeyEqual, class Alloc>
class node_table {
  using map_type =
      std::unordered_map<K, V, Hash, KeyEqual,
                         typename std::allocator_traits<Alloc>::
                             template rebind_alloc<std::pair<const K, V>>>;

public:
  using element_type = typename map_type::value_type;
  using removed_type = typename map_type::node_type;

  node_table(const Hash &h, const KeyEqual &e, const Alloc &a)
      : map_(0, h, e, typename map_type::allocator_type(a)) {}

  void swap(node_table &o) noexcept { map_.swap(o.map_); }
  template <class Q> std::uint64_t hash_of(const Q &key) const {
    return mix_hash(static_cast<std::uint64_t>(map_.hash_function()(key)));
  }
  Hash hash_function() const { return map_.hash_function(); }
  KeyEqual key_eq() const { return map_.key_eq(); }
  std::size_t size() const noexcept { return map_.size(); }
  bool empty() const noexcept { return map_.empty(); }

  template <class Q> element_type *find(const Q &key, std::uint64_t) {
    auto it = find_it(map_, key);
    return it == map_.end() ? nullptr : &*it;
  }
  template <class Q>
  const element_type *find(const Q &key, std::uint64_t) const {
    auto it = find_it(map_, key);
    return it == map_.end() ? nullptr : &*it;
  }
  template <class KK, class... A>
  std::pair<element_type *, bool> try_emplace(KK &&key, std::uint64_t,
                                              A &&...args) {
    auto r = map_.try_emplace(std::forward<KK>(key), std::forward<A>(args)...);
    return {&*r.first, r.second};
  }
  template <class Q>
  bool erase(const Q &key, std::uint64_t, removed_type &out) {
    auto it = find_it(map_, key);
    if (it == map_.end())
      return false;
    out = map_.extract(it);
    return true;
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
  template <class F> bool for_each_while(F &f) const {
    for (const auto &kv : map_)
      if (!f(kv.first, static_cast<const V &>(kv.second)))
        return false;
    return true;
  }
  template <class F> void for_each_mut(F &f) {
    for (auto &kv : map_)
      f(kv.first, kv.second);
  }
  void reserve(std::size_t n) { map_.reserve(n); }

private:
  /// std::unordered_map looks up by another type only from C++20 on; before,
  /// a heterogeneous lookup builds a key.
  template <class M, class Q> static auto find_it(M &map, const Q &key) {
#if defined(__cpp_lib_generic_unordered_lookup) &&                             \
    __cpp_lib_generic_unordered_lookup >= 201811L
    return map.find(key);
#else
    if constexpr (std::is_same_v<Q, K>)
      return map.find(key);
    else
      return map.find(K(key));
#endif
  }

  map_type map_;
};

template <class K, class V, class Hash, class KeyEqual, class Alloc>
using shard_table_t =
    std::conditional_t<std::is_nothrow_move_constructible_v<K> &&
                           std::is_nothrow_move_constructible_v<V>,
                       flat_table<K, V, Hash, KeyEqual, Alloc>,
                       node_table<K, V, Hash, KeyEqual, Alloc>>;

/// The implementation of concguard::sharded_map with the per-shard lock as a
/// parameter (`Lock` needs lock/unlock/lock_shared/unlock_shared). Only
/// sharded_map (with detail::rw_spinlock) is public API; the benchmark
/// instantiates this with std::shared_mutex and std::mutex to justify that
/// choice.
template <class K, class V, class Hash, class KeyEqual, class Lock,
          class Alloc = std::allocator<std::pair<const K, V>>>
class basic_sharded_map {
  using table_type = shard_table_t<K, V, Hash, KeyEqual, Alloc>;

  /// Enables the overloads that look up by another type than K.
  template <class Q>
  using if_transparent =
      std::enable_if_t<transparent_lookup<Hash, KeyEqual, Q>, int>;

public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using hasher = Hash;
  using key_equal = KeyEqual;
  using allocator_type = Alloc;
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
                             const KeyEqual &equal = KeyEqual(),
                             const Alloc &alloc = Alloc())
      : shards_(round_shard_count(shard_count), hash, equal, alloc),
        hash_(hash), eq_(equal) {}

  /// Creates a map holding `init` (later duplicates of a key are ignored, as
  /// with std::unordered_map).
  basic_sharded_map(std::initializer_list<value_type> init,
                    size_type shard_count = default_shard_count,
                    const Hash &hash = Hash(),
                    const KeyEqual &equal = KeyEqual(),
                    const Alloc &alloc = Alloc())
      : basic_sharded_map(shard_count, hash, equal, alloc) {
    for (const value_type &kv : init)
      insert(kv.first, kv.second);
  }

  /// Copies `other` shard by shard, each under its read lock (not an atomic
  /// snapshot of the whole map if `other` is being written meanwhile).
  basic_sharded_map(const basic_sharded_map &other)
      : shards_(
            other.shards_.count(), other.hash_, other.eq_,
            std::allocator_traits<Alloc>::select_on_container_copy_construction(
                other.shards_.allocator())),
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
      fresh.emplace_back(hash_, eq_, shards_.allocator());
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

  /// Takes `other`'s shards (and allocator) without copying or moving any
  /// element; `other` is left empty with the same shard count. Not safe
  /// while another thread uses `other` (like destruction).
  basic_sharded_map(basic_sharded_map &&other)
      : shards_(other.shards_.count(), other.hash_, other.eq_,
                other.shards_.allocator()),
        hash_(other.hash_), eq_(other.eq_) {
    shards_.swap(other.shards_);
  }

  /// Takes `other`'s shards, leaving `other` empty; this map's previous
  /// elements are destroyed. Not safe while another thread uses either map.
  basic_sharded_map &operator=(basic_sharded_map &&other) {
    if (this != &other) {
      basic_sharded_map taken(std::move(other));
      swap(taken);
    }
    return *this;
  }

  /// Exchanges the contents (shards, hash, equality and allocator) of two
  /// maps in O(1). Not safe while another thread uses either map.
  void swap(basic_sharded_map &other) noexcept {
    using std::swap;
    shards_.swap(other.shards_);
    swap(hash_, other.hash_);
    swap(eq_, other.eq_);
  }
  friend void swap(basic_sharded_map &a, basic_sharded_map &b) noexcept {
    a.swap(b);
  }

  ~basic_sharded_map() = default;

  //===-- Reads (shared lock of one shard) -------------------------------===//

  /// Returns a copy of the value for `key`, or std::nullopt.
  std::optional<V> get(const K &key) const { return find_copy(key, "get"); }

  /// Returns a copy of the value for `key`; throws std::out_of_range if the
  /// key is absent.
  V at(const K &key) const { return at_impl(key); }

  /// Whether `key` is present.
  bool contains(const K &key) const { return count_impl(key, "contains") != 0; }

  /// 1 if `key` is present, else 0.
  size_type count(const K &key) const { return count_impl(key, "count"); }

  /// Calls `f(const V&)` on the value for `key` under the shard's read lock,
  /// without copying it. Returns whether the key was present (f is not
  /// called otherwise). `f` must not call into this map.
  template <class F> bool visit(const K &key, F &&f) const {
    return visit_impl(key, f);
  }

  //===-- Lookup by another type (Hash and KeyEqual transparent) ---------===//

  /// With a transparent Hash and KeyEqual (both declare `is_transparent`,
  /// e.g. a string hash that accepts std::string_view), every operation
  /// that only looks a key up also accepts any type they accept, without
  /// building a K.
  template <class Q, if_transparent<Q> = 0>
  std::optional<V> get(const Q &key) const {
    return find_copy(key, "get");
  }
  template <class Q, if_transparent<Q> = 0> V at(const Q &key) const {
    return at_impl(key);
  }
  template <class Q, if_transparent<Q> = 0> bool contains(const Q &key) const {
    return count_impl(key, "contains") != 0;
  }
  template <class Q, if_transparent<Q> = 0>
  size_type count(const Q &key) const {
    return count_impl(key, "count");
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool visit(const Q &key, F &&f) const {
    return visit_impl(key, f);
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool cvisit(const Q &key, F &&f) const {
    return visit_impl(key, f);
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool update(const Q &key, F &&f) {
    return update_impl(key, f);
  }
  template <class Q, if_transparent<Q> = 0> size_type erase(const Q &key) {
    return erase_impl(key);
  }
  template <class Q, class P, if_transparent<Q> = 0>
  size_type erase_if(const Q &key, P &&pred) {
    return erase_key_if_impl(key, pred);
  }
  template <class Q, if_transparent<Q> = 0>
  std::optional<V> load_and_delete(const Q &key) {
    return load_and_delete_impl(key);
  }

private:
  template <class Q> V at_impl(const Q &key) const {
    std::optional<V> v = find_copy(key, "at");
    if (!v)
      throw std::out_of_range("concguard::sharded_map::at: key not found");
    return std::move(*v);
  }

  template <class Q, class F> bool visit_impl(const Q &key, F &f) const {
    check_entry("visit");
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    shared_access a(this, s);
    const auto *e = s.table.find(key, h);
    if (e == nullptr)
      return false;
    call_visitor(f, static_cast<const K &>(e->first),
                 static_cast<const V &>(e->second));
    return true;
  }

public:
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
  /// If f returns bool, returning false stops the iteration. `f` must not
  /// call into this map.
  template <class F> void for_each(F &&f) const {
    check_entry("for_each");
    for_each_while_impl(f);
  }

  /// Like for_each, but `f` returns bool and false stops the iteration;
  /// returns false if it stopped early.
  template <class F> bool visit_while(F &&f) const {
    check_entry("visit_while");
    return for_each_while_impl(f);
  }

  /// Boost's names: cvisit = visit, visit_all = for_each.
  template <class F> bool cvisit(const K &key, F &&f) const {
    return visit(key, std::forward<F>(f));
  }
  template <class F> void visit_all(F &&f) const {
    for_each(std::forward<F>(f));
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
    return update_impl(key, f);
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
      call_visitor(f, static_cast<const K &>(e->first), e->second);
      return;
    }
    try {
      call_visitor(f, static_cast<const K &>(e->first), e->second);
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
  ///
  /// A `const V&` (an lvalue V) is copy-assigned over the present value
  /// under the write lock, as std::unordered_map::insert_or_assign does: a
  /// value that owns memory (a string, a vector of strings) reuses it, where
  /// copying first and moving in would allocate the copy and free the old
  /// value's memory on every overwrite. If that assignment throws, the value
  /// is what V's assignment left (basic guarantee). Anything else (an
  /// rvalue, another type, a braced list) is made into a V before the lock,
  /// swapped in, and the old value is destroyed after the lock is released.
  template <class M = V,
            std::enable_if_t<std::is_convertible_v<M &&, V>, int> = 0>
  bool insert_or_assign(K key, M &&value) {
    check_entry("insert_or_assign");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    if constexpr (std::is_same_v<M, const V &> || std::is_same_v<M, V &>) {
      exclusive_access a(this, s);
      if (auto *e = s.table.find(key, h)) {
        e->second = value;
        return false;
      }
      s.table.try_emplace(std::move(key), h, value);
      return true;
    } else {
      V fresh(std::forward<M>(value)); // destroyed after the lock is released
      exclusive_access a(this, s);
      if (auto *e = s.table.find(key, h)) {
        using std::swap;
        swap(e->second, fresh);
        return false;
      }
      s.table.try_emplace(std::move(key), h, std::move(fresh));
      return true;
    }
  }

  /// Removes `key`; returns the number of elements removed (0 or 1). The
  /// element is destroyed after the lock is released.
  size_type erase(const K &key) { return erase_impl(key); }

  /// Removes `key` if `pred(const V&)` (or `pred(const K&, const V&)`) is
  /// true, under the shard's write lock; returns 0 or 1.
  template <class P> size_type erase_if(const K &key, P &&pred) {
    return erase_key_if_impl(key, pred);
  }

  /// Inserts (key, value) if absent, else calls `f(V&)` (or `f(const K&,
  /// V&)`) on the present value under the write lock; true if inserted.
  template <class F> bool insert_or_visit(K key, V value, F &&f) {
    check_entry("insert_or_visit");
    return insert_or_visit_impl<false>(std::move(key), std::move(value), f);
  }

  /// insert_or_visit with a read-only visitor `f(const V&)`.
  template <class F> bool insert_or_cvisit(K key, V value, F &&f) {
    check_entry("insert_or_cvisit");
    return insert_or_visit_impl<true>(std::move(key), std::move(value), f);
  }

  /// Boost's emplace_or_visit: `emplace_or_visit(key, args..., f)` inserts
  /// V(args...) for `key` if absent (true), else calls `f(V&)` (or
  /// `f(const K&, V&)`) on the present value under the write lock (false;
  /// V is not constructed and `args` are not used).
  template <class... A> bool emplace_or_visit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_visit(key, args..., f)");
    check_entry("emplace_or_visit");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_visit_impl<false>(
        std::move(key), all, std::make_index_sequence<sizeof...(A) - 1>());
  }

  /// emplace_or_visit with a read-only visitor `f(const V&)`.
  template <class... A> bool emplace_or_cvisit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_cvisit(key, args..., f)");
    check_entry("emplace_or_cvisit");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_visit_impl<true>(
        std::move(key), all, std::make_index_sequence<sizeof...(A) - 1>());
  }

  /// Go's sync.Map.LoadOrStore: stores `value` if `key` is absent. Returns
  /// the value now in the map and whether it was already there (loaded).
  std::pair<V, bool> load_or_store(K key, V value) {
    check_entry("load_or_store");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    auto [e, inserted] =
        s.table.try_emplace(std::move(key), h, std::move(value));
    return {e->second, !inserted};
  }

  /// Go's sync.Map.LoadAndDelete: removes `key` and returns its value.
  std::optional<V> load_and_delete(const K &key) {
    return load_and_delete_impl(key);
  }

  /// Go's sync.Map.CompareAndSwap: sets the value of `key` to `desired` if
  /// it is present and equal to `expected`; returns whether it did.
  bool compare_and_swap(const K &key, const V &expected, V desired) {
    check_entry("compare_and_swap");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    auto *e = s.table.find(key, h);
    if (e == nullptr || !(static_cast<const V &>(e->second) == expected))
      return false;
    e->second = std::move(desired);
    return true;
  }

  /// folly::ConcurrentHashMap's name for compare_and_swap.
  bool assign_if_equal(const K &key, const V &expected, V desired) {
    return compare_and_swap(key, expected, std::move(desired));
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
      table_type old(hash_, eq_, shards_.allocator());
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

  /// A copy of the allocator.
  allocator_type get_allocator() const {
    return allocator_type(shards_.allocator());
  }

private:
  struct alignas(cache_line_size) shard {
    shard(const Hash &h, const KeyEqual &e, const Alloc &a) : table(h, e, a) {}
    mutable Lock lock;
    table_type table;
  };

  /// A fixed array of shards, allocated once, each on its own cache line(s).
  class shard_array {
    using shard_alloc =
        typename std::allocator_traits<Alloc>::template rebind_alloc<shard>;

  public:
    shard_array(size_type n, const Hash &h, const KeyEqual &e, const Alloc &a)
        : alloc_(a),
          data_(std::allocator_traits<shard_alloc>::allocate(alloc_, n)),
          count_(n) {
      size_type built = 0;
      try {
        for (; built < n; ++built)
          ::new (static_cast<void *>(data_ + built)) shard(h, e, a);
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

    /// Exchanges the arrays and the allocators that own them.
    void swap(shard_array &o) noexcept {
      using std::swap;
      swap(alloc_, o.alloc_);
      swap(data_, o.data_);
      swap(count_, o.count_);
      swap(bits_, o.bits_);
    }

    shard &operator[](size_type i) noexcept { return data_[i]; }
    const shard &operator[](size_type i) const noexcept { return data_[i]; }
    size_type count() const noexcept { return count_; }
    unsigned bits() const noexcept { return bits_; }
    Alloc allocator() const { return Alloc(alloc_); }

  private:
    void destroy(size_type built) noexcept {
      for (size_type i = built; i > 0; --i)
        data_[i - 1].~shard();
      std::allocator_traits<shard_alloc>::deallocate(alloc_, data_, count_);
    }
    shard_alloc alloc_;
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

  template <class Q>
  std::optional<V> find_copy(const Q &key, const char *operation) const {
    check_entry(operation);
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    shared_access a(this, s);
    const auto *e = s.table.find(key, h);
    if (e == nullptr)
      return std::nullopt;
    return std::optional<V>(e->second);
  }

  template <class Q>
  size_type count_impl(const Q &key, const char *operation) const {
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

  template <class Q, class F> bool update_impl(const Q &key, F &f) {
    check_entry("update");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    auto *e = s.table.find(key, h);
    if (e == nullptr)
      return false;
    call_visitor(f, static_cast<const K &>(e->first), e->second);
    return true;
  }

  template <class Q> size_type erase_impl(const Q &key) {
    check_entry("erase");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    typename table_type::removed_type removed; // dies after the unlock
    exclusive_access a(this, s);
    return s.table.erase(key, h, removed) ? 1 : 0;
  }

  template <class Q, class P>
  size_type erase_key_if_impl(const Q &key, P &pred) {
    check_entry("erase_if");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    typename table_type::removed_type removed; // dies after the unlock
    exclusive_access a(this, s);
    const auto *e = s.table.find(key, h);
    if (e == nullptr || !call_visitor(pred, static_cast<const K &>(e->first),
                                      static_cast<const V &>(e->second)))
      return 0;
    return s.table.erase(key, h, removed) ? 1 : 0;
  }

  template <class Q> std::optional<V> load_and_delete_impl(const Q &key) {
    check_entry("load_and_delete");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    std::optional<V> out;
    exclusive_access a(this, s);
    auto *e = s.table.find(key, h);
    if (e == nullptr)
      return out;
    out.emplace(std::move(e->second));
    s.table.erase_element(e);
    return out;
  }

  /// The value arguments are all but the last element of `all`, the
  /// visitor is the last.
  template <bool Const, class Tuple, std::size_t... I>
  bool emplace_or_visit_impl(K &&key, Tuple &all, std::index_sequence<I...>) {
    auto &f = std::get<sizeof...(I)>(all);
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    if (auto *e = s.table.find(key, h)) {
      if constexpr (Const)
        call_visitor(f, static_cast<const K &>(e->first),
                     static_cast<const V &>(e->second));
      else
        call_visitor(f, static_cast<const K &>(e->first), e->second);
      return false;
    }
    s.table.try_emplace(std::move(key), h, std::get<I>(std::move(all))...);
    return true;
  }

  template <bool Const, class F>
  bool insert_or_visit_impl(K &&key, V &&value, F &f) {
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    exclusive_access a(this, s);
    if (auto *e = s.table.find(key, h)) {
      if constexpr (Const)
        call_visitor(f, static_cast<const K &>(e->first),
                     static_cast<const V &>(e->second));
      else
        call_visitor(f, static_cast<const K &>(e->first), e->second);
      return false;
    }
    s.table.try_emplace(std::move(key), h, std::move(value));
    return true;
  }

  template <class F> bool for_each_while_impl(F &f) const {
    auto go_on = [&f](const K &k, const V &v) {
      return call_continue(f, k, v);
    };
    for (size_type i = 0; i < shards_.count(); ++i) {
      shared_access a(this, shards_[i]);
      if (!shards_[i].table.for_each_while(go_on))
        return false;
    }
    return true;
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
  template <class Q> std::uint64_t hash_of(const Q &key) const {
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

//===-- Optimistic shards for small trivially copyable elements ----------===//

/// Whether sharded_map stores (K, V) in optimistic shards: both trivially
/// copyable, at most 8 bytes, and lock-free as std::atomic, so that a reader
/// can copy an element with plain atomic loads while a writer may be moving
/// it, and throw the copy away if the writer was there.
template <class T> constexpr bool small_lock_free_atomic() {
  if constexpr (std::is_trivially_copyable_v<T> && sizeof(T) <= 8)
    return std::atomic<T>::is_always_lock_free;
  else
    return false;
}
template <class K, class V>
inline constexpr bool optimistic_elements =
    small_lock_free_atomic<K>() && small_lock_free_atomic<V>() &&
    std::is_default_constructible_v<V>;

/// A sequence lock: an even count when free, odd while a writer holds it.
/// Writers take it with one compare-and-swap and release it with one store;
/// readers never write it: they read the count before and after copying
/// what they need, and retry if it changed or was odd. Following Boehm ("Can
/// seqlocks get along with programming language memory models?", 2012),
/// every datum read optimistically is an atomic; writers store it with
/// release and readers load it with acquire (plain moves on x86), so a
/// reader that sees any store of a writer also sees that writer's odd count
/// when it reads the count again, and no fence is needed (ThreadSanitizer
/// does not model fences, but it does model these).
class seq_lock {
public:
  void lock() noexcept {
    backoff b;
    for (;;) {
      std::uint32_t s = seq_.load(std::memory_order_relaxed);
      if ((s & 1) == 0 &&
          seq_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed))
        return;
      b.pause();
    }
  }
  void unlock() noexcept {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1,
               std::memory_order_release);
  }
  /// The count to validate against; odd means a writer is in.
  std::uint32_t read_begin() const noexcept {
    return seq_.load(std::memory_order_acquire);
  }
  /// Whether nothing was written since read_begin() returned `s`. The
  /// caller's acquire loads of the data keep this load after them.
  bool read_validate(std::uint32_t s) const noexcept {
    return seq_.load(std::memory_order_relaxed) == s;
  }

private:
  std::atomic<std::uint32_t> seq_{0};
};

/// The open-addressing table of an optimistic shard (linear probing, 7-bit
/// tags in control bytes, backward-shift deletion, as flat_table) whose
/// control bytes, keys and values are atomics. Writers (holding the shard's
/// seq_lock) use relaxed atomic accesses; readers do too, without the lock,
/// and validate with the seq_lock. An array replaced by a larger one is
/// retired, not freed: an optimistic reader may still be probing it. The
/// retired arrays are freed with the table; as capacities double, they add
/// up to less than the current array.
template <class K, class V, class Alloc> class atomic_table {
  struct slot {
    std::atomic<K> key;
    std::atomic<V> value;
  };
  struct block {
    std::size_t cap;
    std::size_t units; // allocation size, in units of `unit`
    block *retired;    // the next older retired block
    std::atomic<std::uint8_t> *ctrl;
    slot *slot_array;
  };
  /// What a block's memory is allocated in: aligned for the header and the
  /// slots alike.
  struct alignas(alignof(slot) > alignof(block) ? alignof(slot)
                                                : alignof(block)) unit {
    unsigned char
        bytes[alignof(slot) > alignof(block) ? alignof(slot) : alignof(block)];
  };
  using unit_alloc =
      typename std::allocator_traits<Alloc>::template rebind_alloc<unit>;

public:
  static constexpr std::uint8_t empty_slot = 0x80;

  explicit atomic_table(const Alloc &alloc) : alloc_(alloc) {}
  atomic_table(const atomic_table &) = delete;
  atomic_table &operator=(const atomic_table &) = delete;
  ~atomic_table() {
    block *b = current_.load(std::memory_order_relaxed);
    while (b != nullptr) {
      block *next = b->retired;
      free_block(b);
      b = next;
    }
  }

  /// Looks `key` up without the lock; the caller validates. Returns whether
  /// found, with the value in `out`. Probes at most the capacity (a reader
  /// racing with a writer may see a full-looking cluster).
  template <class Q, class Eq>
  bool read(const Q &key, std::uint64_t h, const Eq &eq, V &out,
            K *stored = nullptr) const {
    const block *b = current_.load(std::memory_order_acquire);
    if (b == nullptr)
      return false;
    const std::uint8_t tag = hash_tag(h);
    const std::size_t mask = b->cap - 1;
    std::size_t i = static_cast<std::size_t>(h) & mask;
    for (std::size_t n = 0; n < b->cap; ++n, i = (i + 1) & mask) {
      const std::uint8_t c = b->ctrl[i].load(std::memory_order_acquire);
      if (c == empty_slot)
        return false;
      if (c != tag)
        continue;
      const K k = b->slot_array[i].key.load(std::memory_order_acquire);
      if (eq(k, key)) {
        out = b->slot_array[i].value.load(std::memory_order_acquire);
        if (stored != nullptr)
          *stored = k;
        return true;
      }
    }
    return false;
  }

  //===-- Under the lock --------------------------------------------------===//

  std::size_t size() const noexcept {
    return size_.load(std::memory_order_relaxed);
  }

  /// Index of `key`'s slot, or npos.
  static constexpr std::size_t npos = ~std::size_t(0);
  template <class Q, class Eq>
  std::size_t find(const Q &key, std::uint64_t h, const Eq &eq) const {
    const block *b = current_.load(std::memory_order_relaxed);
    if (b == nullptr)
      return npos;
    const std::uint8_t tag = hash_tag(h);
    const std::size_t mask = b->cap - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;;
         i = (i + 1) & mask) {
      const std::uint8_t c = b->ctrl[i].load(std::memory_order_relaxed);
      if (c == empty_slot)
        return npos;
      if (c == tag && eq(b->slot_array[i].key.load(std::memory_order_relaxed), key))
        return i;
    }
  }

  V value_at(std::size_t i) const noexcept {
    return current_.load(std::memory_order_relaxed)
        ->slot_array[i]
        .value.load(std::memory_order_relaxed);
  }
  K key_at(std::size_t i) const noexcept {
    return current_.load(std::memory_order_relaxed)
        ->slot_array[i]
        .key.load(std::memory_order_relaxed);
  }
  void store_value(std::size_t i, const V &v) noexcept {
    current_.load(std::memory_order_relaxed)
        ->slot_array[i]
        .value.store(v, std::memory_order_release);
  }

  /// Inserts (key, value), absent. `rehash_hash(k)` gives the mixed hash of
  /// a stored key (to move elements on growth).
  template <class HashOf>
  void insert_new(const K &key, std::uint64_t h, const V &value,
                  const HashOf &hash_of) {
    const std::size_t n = size() + 1;
    block *b = current_.load(std::memory_order_relaxed);
    if (b == nullptr || n > max_load(b->cap))
      b = grow(b == nullptr ? min_capacity : b->cap * 2, hash_of);
    place(b, h, key, value);
    size_.store(n, std::memory_order_relaxed);
  }

  /// Removes the element in slot `hole`.
  template <class HashOf>
  void erase_at(std::size_t hole, const HashOf &hash_of) {
    block *b = current_.load(std::memory_order_relaxed);
    const std::size_t mask = b->cap - 1;
    b->ctrl[hole].store(empty_slot, std::memory_order_release);
    for (std::size_t j = (hole + 1) & mask;
         b->ctrl[j].load(std::memory_order_relaxed) != empty_slot;
         j = (j + 1) & mask) {
      const K k = b->slot_array[j].key.load(std::memory_order_relaxed);
      const std::size_t home = static_cast<std::size_t>(hash_of(k)) & mask;
      const std::size_t dist_home = (home - hole) & mask;
      const std::size_t dist_j = (j - hole) & mask;
      if (dist_home != 0 && dist_home <= dist_j)
        continue;
      b->slot_array[hole].key.store(k, std::memory_order_release);
      b->slot_array[hole].value.store(
          b->slot_array[j].value.load(std::memory_order_relaxed),
          std::memory_order_release);
      b->ctrl[hole].store(b->ctrl[j].load(std::memory_order_relaxed),
                          std::memory_order_release);
      b->ctrl[j].store(empty_slot, std::memory_order_release);
      hole = j;
    }
    size_.store(size() - 1, std::memory_order_relaxed);
  }

  /// Calls f(index) for every occupied slot, in slot order.
  template <class F> void for_each_index(F &&f) const {
    const block *b = current_.load(std::memory_order_relaxed);
    if (b == nullptr)
      return;
    for (std::size_t i = 0; i < b->cap; ++i)
      if (b->ctrl[i].load(std::memory_order_relaxed) != empty_slot)
        f(i);
  }

  std::size_t capacity() const noexcept {
    const block *b = current_.load(std::memory_order_relaxed);
    return b == nullptr ? 0 : b->cap;
  }
  bool occupied(std::size_t i) const noexcept {
    return current_.load(std::memory_order_relaxed)
               ->ctrl[i]
               .load(std::memory_order_relaxed) != empty_slot;
  }

  /// Empties the table, keeping its array (an optimistic reader may be in it).
  void clear() noexcept {
    block *b = current_.load(std::memory_order_relaxed);
    if (b == nullptr)
      return;
    for (std::size_t i = 0; i < b->cap; ++i)
      b->ctrl[i].store(empty_slot, std::memory_order_release);
    size_.store(0, std::memory_order_relaxed);
  }

  template <class HashOf> void reserve(std::size_t n, const HashOf &hash_of) {
    block *b = current_.load(std::memory_order_relaxed);
    std::size_t cap = b == nullptr ? min_capacity : b->cap;
    while (max_load(cap) < n)
      cap *= 2;
    if (b == nullptr || cap != b->cap)
      grow(cap, hash_of);
  }

private:
  static constexpr std::size_t min_capacity = 16;
  static std::size_t max_load(std::size_t cap) noexcept {
    return cap - cap / 4;
  }

  block *make_block(std::size_t cap) {
    // One allocation: header, control bytes, slots (aligned).
    const std::size_t ctrl_off = sizeof(block);
    std::size_t slots_off = ctrl_off + cap * sizeof(std::atomic<std::uint8_t>);
    slots_off = (slots_off + alignof(slot) - 1) / alignof(slot) * alignof(slot);
    const std::size_t bytes = slots_off + cap * sizeof(slot);
    const std::size_t units = (bytes + sizeof(unit) - 1) / sizeof(unit);
    char *raw = reinterpret_cast<char *>(
        std::allocator_traits<unit_alloc>::allocate(alloc_, units));
    block *b = ::new (static_cast<void *>(raw)) block;
    b->cap = cap;
    b->units = units;
    b->retired = nullptr;
    b->ctrl = reinterpret_cast<std::atomic<std::uint8_t> *>(raw + ctrl_off);
    b->slot_array = reinterpret_cast<slot *>(raw + slots_off);
    for (std::size_t i = 0; i < cap; ++i) {
      ::new (static_cast<void *>(b->ctrl + i))
          std::atomic<std::uint8_t>(empty_slot);
      ::new (static_cast<void *>(b->slot_array + i)) slot{};
    }
    return b;
  }

  void free_block(block *b) noexcept {
    const std::size_t units = b->units;
    b->~block(); // atomics of trivially copyable types: trivial
    std::allocator_traits<unit_alloc>::deallocate(
        alloc_, reinterpret_cast<unit *>(b), units);
  }

  static void place(block *b, std::uint64_t h, const K &key, const V &value) {
    const std::size_t mask = b->cap - 1;
    std::size_t i = static_cast<std::size_t>(h) & mask;
    while (b->ctrl[i].load(std::memory_order_relaxed) != empty_slot)
      i = (i + 1) & mask;
    b->slot_array[i].key.store(key, std::memory_order_release);
    b->slot_array[i].value.store(value, std::memory_order_release);
    b->ctrl[i].store(hash_tag(h), std::memory_order_release);
  }

  template <class HashOf> block *grow(std::size_t cap, const HashOf &hash_of) {
    block *old = current_.load(std::memory_order_relaxed);
    block *next = make_block(cap);
    if (old != nullptr) {
      for (std::size_t i = 0; i < old->cap; ++i)
        if (old->ctrl[i].load(std::memory_order_relaxed) != empty_slot) {
          const K k = old->slot_array[i].key.load(std::memory_order_relaxed);
          place(next, hash_of(k), k,
                old->slot_array[i].value.load(std::memory_order_relaxed));
        }
      next->retired = old;
    }
    // Readers that load the new array see it filled (release/acquire).
    current_.store(next, std::memory_order_release);
    return next;
  }

  std::atomic<block *> current_{nullptr};
  std::atomic<std::size_t> size_{0}; // read by size() without the lock
  unit_alloc alloc_;
};

/// sharded_map for elements that qualify for optimistic_elements: point
/// reads (get, at, contains, count, visit) take no lock and write no shared
/// memory (one load of the shard's sequence count before and after the
/// probe); a write takes the shard's seq_lock (one compare-and-swap) and
/// releases it with a store. Same interface and guarantees as
/// basic_sharded_map, except that read callbacks (visit, for_each) run on a
/// validated copy of the element(s) rather than under a lock.
template <class K, class V, class Hash, class KeyEqual,
          class Alloc = std::allocator<std::pair<const K, V>>>
class optimistic_sharded_map {
  using table_type = atomic_table<K, V, Alloc>;

  template <class Q>
  using if_transparent =
      std::enable_if_t<transparent_lookup<Hash, KeyEqual, Q>, int>;

public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using hasher = Hash;
  using key_equal = KeyEqual;
  using allocator_type = Alloc;
  using size_type = std::size_t;

  static constexpr size_type default_shard_count = 64;
  static constexpr size_type max_shard_count = size_type(1) << 16;

  explicit optimistic_sharded_map(size_type shard_count = default_shard_count,
                                  const Hash &hash = Hash(),
                                  const KeyEqual &equal = KeyEqual(),
                                  const Alloc &alloc = Alloc())
      : shards_(round_shard_count(shard_count), alloc), hash_(hash),
        eq_(equal) {}

  optimistic_sharded_map(std::initializer_list<value_type> init,
                         size_type shard_count = default_shard_count,
                         const Hash &hash = Hash(),
                         const KeyEqual &equal = KeyEqual(),
                         const Alloc &alloc = Alloc())
      : optimistic_sharded_map(shard_count, hash, equal, alloc) {
    for (const value_type &kv : init)
      insert(kv.first, kv.second);
  }

  /// Copies `other` shard by shard (each shard one consistent state).
  optimistic_sharded_map(const optimistic_sharded_map &other)
      : optimistic_sharded_map(
            other.shards_.count(), other.hash_, other.eq_,
            std::allocator_traits<Alloc>::select_on_container_copy_construction(
                other.shards_.allocator())) {
    other.check_entry("sharded_map(const sharded_map&)");
    other.for_each_impl([&](const K &k, const V &v) { insert_impl(k, v); });
  }

  /// Takes `other`'s shards (and allocator) without copying any element;
  /// `other` is left empty with the same shard count. Not safe while another
  /// thread uses `other` (like destruction).
  optimistic_sharded_map(optimistic_sharded_map &&other)
      : optimistic_sharded_map(other.shards_.count(), other.hash_, other.eq_,
                               other.shards_.allocator()) {
    shards_.swap(other.shards_);
  }

  /// Takes `other`'s shards, leaving `other` empty. Not safe while another
  /// thread uses either map.
  optimistic_sharded_map &operator=(optimistic_sharded_map &&other) {
    if (this != &other) {
      optimistic_sharded_map taken(std::move(other));
      swap(taken);
    }
    return *this;
  }

  /// Exchanges the contents of two maps in O(1). Not safe while another
  /// thread uses either map.
  void swap(optimistic_sharded_map &other) noexcept {
    using std::swap;
    shards_.swap(other.shards_);
    swap(hash_, other.hash_);
    swap(eq_, other.eq_);
  }
  friend void swap(optimistic_sharded_map &a,
                   optimistic_sharded_map &b) noexcept {
    a.swap(b);
  }

  /// Replaces the contents with a copy of `other`'s, shard by shard; keeps
  /// this map's shard count. Not atomic.
  optimistic_sharded_map &operator=(const optimistic_sharded_map &other) {
    if (this == &other)
      return *this;
    check_entry("operator=");
    std::vector<std::pair<K, V>> all = other.snapshot();
    clear();
    for (const auto &kv : all)
      insert_or_assign(kv.first, kv.second);
    return *this;
  }

  //===-- Reads: optimistic -----------------------------------------------===//

  std::optional<V> get(const K &key) const { return get_impl(key); }
  V at(const K &key) const { return at_impl(key); }
  bool contains(const K &key) const { return contains_impl(key); }
  size_type count(const K &key) const { return contains_impl(key) ? 1 : 0; }

  /// Calls `f(const V&)` on a validated copy of the value (no lock is held,
  /// but as for every callback, `f` must not call into this map).
  template <class F> bool visit(const K &key, F &&f) const {
    return visit_impl(key, f);
  }

  template <class F> bool cvisit(const K &key, F &&f) const {
    return visit_impl(key, f);
  }

  //===-- Lookup by another type (Hash and KeyEqual transparent) ---------===//

  template <class Q, if_transparent<Q> = 0>
  std::optional<V> get(const Q &key) const {
    return get_impl(key);
  }
  template <class Q, if_transparent<Q> = 0> V at(const Q &key) const {
    return at_impl(key);
  }
  template <class Q, if_transparent<Q> = 0> bool contains(const Q &key) const {
    return contains_impl(key);
  }
  template <class Q, if_transparent<Q> = 0>
  size_type count(const Q &key) const {
    return contains_impl(key) ? 1 : 0;
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool visit(const Q &key, F &&f) const {
    return visit_impl(key, f);
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool cvisit(const Q &key, F &&f) const {
    return visit_impl(key, f);
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool update(const Q &key, F &&f) {
    return update_impl(key, f);
  }
  template <class Q, if_transparent<Q> = 0> size_type erase(const Q &key) {
    return erase_impl(key);
  }
  template <class Q, class P, if_transparent<Q> = 0>
  size_type erase_if(const Q &key, P &&pred) {
    return erase_key_if_impl(key, pred);
  }
  template <class Q, if_transparent<Q> = 0>
  std::optional<V> load_and_delete(const Q &key) {
    return load_and_delete_impl(key);
  }

  size_type size() const {
    check_entry("size");
    size_type n = 0;
    for (size_type i = 0; i < shards_.count(); ++i)
      n += shards_[i].table.size();
    return n;
  }

  bool empty() const {
    check_entry("empty");
    for (size_type i = 0; i < shards_.count(); ++i)
      if (shards_[i].table.size() != 0)
        return false;
    return true;
  }

  /// Calls `f(const K&, const V&)` on every element: each shard is copied
  /// under its lock (one consistent state per shard) and f runs on the copy.
  /// If f returns bool, returning false stops the iteration.
  template <class F> void for_each(F &&f) const {
    check_entry("for_each");
    marker mark(this);
    for_each_impl(f);
  }

  template <class F> bool visit_while(F &&f) const {
    check_entry("visit_while");
    marker mark(this);
    return for_each_impl(f);
  }

  template <class F> void visit_all(F &&f) const {
    for_each(std::forward<F>(f));
  }

  std::vector<std::pair<K, V>> snapshot() const {
    check_entry("snapshot");
    std::vector<std::pair<K, V>> out;
    for_each_impl([&](const K &k, const V &v) { out.emplace_back(k, v); });
    return out;
  }

  //===-- Writes: under the shard's seq_lock
  //-------------------------------===//

  /// Calls `f(V&)` on a copy of the value and stores it back, under the
  /// shard's lock; if f throws, the value is unchanged.
  template <class F> bool update(const K &key, F &&f) {
    return update_impl(key, f);
  }

  template <class F> void upsert(const K &key, F &&f) {
    check_entry("upsert");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    V v = i == table_type::npos ? V() : s.table.value_at(i);
    call_visitor(f, key, v); // if it throws, nothing was inserted or changed
    if (i == table_type::npos)
      s.table.insert_new(key, h, v, hasher_of());
    else
      s.table.store_value(i, v);
  }

  V get_or_insert_default(const K &key) {
    check_entry("get_or_insert_default");
    V v{};
    if (read(key, v))
      return v;
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i != table_type::npos)
      return s.table.value_at(i);
    s.table.insert_new(key, h, V(), hasher_of());
    return V();
  }

  bool insert(K key, V value) {
    check_entry("insert");
    return insert_impl(key, value);
  }

  template <class... A> bool emplace(K key, A &&...args) {
    check_entry("emplace");
    return emplace_impl(key, std::forward<A>(args)...);
  }

  template <class... A> bool try_emplace(K key, A &&...args) {
    check_entry("try_emplace");
    return emplace_impl(key, std::forward<A>(args)...);
  }

  bool insert_or_assign(K key, V value) {
    check_entry("insert_or_assign");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i != table_type::npos) {
      s.table.store_value(i, value);
      return false;
    }
    s.table.insert_new(key, h, value, hasher_of());
    return true;
  }

  size_type erase(const K &key) { return erase_impl(key); }

  template <class P> size_type erase_if(const K &key, P &&pred) {
    return erase_key_if_impl(key, pred);
  }

  template <class F> bool insert_or_visit(K key, V value, F &&f) {
    check_entry("insert_or_visit");
    return insert_or_visit_impl<false>(key, value, f);
  }

  template <class F> bool insert_or_cvisit(K key, V value, F &&f) {
    check_entry("insert_or_cvisit");
    return insert_or_visit_impl<true>(key, value, f);
  }

  template <class... A> bool emplace_or_visit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_visit(key, args..., f)");
    check_entry("emplace_or_visit");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_visit_impl<false>(
        key, all, std::make_index_sequence<sizeof...(A) - 1>());
  }

  template <class... A> bool emplace_or_cvisit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_cvisit(key, args..., f)");
    check_entry("emplace_or_cvisit");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_visit_impl<true>(
        key, all, std::make_index_sequence<sizeof...(A) - 1>());
  }

  std::pair<V, bool> load_or_store(K key, V value) {
    check_entry("load_or_store");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i != table_type::npos)
      return {s.table.value_at(i), true};
    s.table.insert_new(key, h, value, hasher_of());
    return {value, false};
  }

  std::optional<V> load_and_delete(const K &key) {
    return load_and_delete_impl(key);
  }

  bool compare_and_swap(const K &key, const V &expected, V desired) {
    check_entry("compare_and_swap");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos ||
        !(static_cast<const V &>(s.table.value_at(i)) == expected))
      return false;
    s.table.store_value(i, desired);
    return true;
  }

  /// folly::ConcurrentHashMap's name for compare_and_swap.
  bool assign_if_equal(const K &key, const V &expected, V desired) {
    return compare_and_swap(key, expected, desired);
  }

  /// Removes every element for which `pred(const K&, const V&)` is true,
  /// shard by shard under the shard's lock; pred is called once per element.
  template <class P> size_type erase_if(P &&pred) {
    check_entry("erase_if");
    size_type removed = 0;
    std::vector<K> doomed;
    for (size_type si = 0; si < shards_.count(); ++si) {
      shard &s = shards_[si];
      write_access a(this, s);
      doomed.clear();
      s.table.for_each_index([&](std::size_t i) {
        const K k = s.table.key_at(i);
        const V v = s.table.value_at(i);
        if (pred(static_cast<const K &>(k), static_cast<const V &>(v)))
          doomed.push_back(k);
      });
      for (const K &k : doomed)
        s.table.erase_at(s.table.find(k, hash_of(k), eq_), hasher_of());
      removed += doomed.size();
    }
    return removed;
  }

  /// Calls `f(const K&, V&)` on every element, shard by shard under the
  /// shard's lock, storing each value back after f returns.
  template <class F> void for_each_mut(F &&f) {
    check_entry("for_each_mut");
    for (size_type si = 0; si < shards_.count(); ++si) {
      shard &s = shards_[si];
      write_access a(this, s);
      s.table.for_each_index([&](std::size_t i) {
        const K k = s.table.key_at(i);
        V v = s.table.value_at(i);
        f(static_cast<const K &>(k), v);
        s.table.store_value(i, v);
      });
    }
  }

  void clear() {
    check_entry("clear");
    for (size_type si = 0; si < shards_.count(); ++si) {
      write_access a(this, shards_[si]);
      shards_[si].table.clear();
    }
  }

  void reserve(size_type n) {
    check_entry("reserve");
    size_type per_shard = (n + shards_.count() - 1) / shards_.count();
    per_shard += per_shard / 8 + (n != 0 ? 4 : 0);
    for (size_type si = 0; si < shards_.count(); ++si) {
      write_access a(this, shards_[si]);
      shards_[si].table.reserve(per_shard, hasher_of());
    }
  }

  size_type shard_count() const noexcept { return shards_.count(); }
  size_type shard_of(const K &key) const {
    return index_for_hash(hash_of(key));
  }
  hasher hash_function() const { return hash_; }
  key_equal key_eq() const { return eq_; }
  allocator_type get_allocator() const {
    return allocator_type(shards_.allocator());
  }

private:
  struct alignas(cache_line_size) shard {
    explicit shard(const Alloc &a) : table(a) {}
    mutable seq_lock lock;
    table_type table;
  };

  /// The shards, allocated once with the map's allocator.
  class shard_array {
    using shard_alloc =
        typename std::allocator_traits<Alloc>::template rebind_alloc<shard>;

  public:
    shard_array(size_type n, const Alloc &a)
        : alloc_(a),
          data_(std::allocator_traits<shard_alloc>::allocate(alloc_, n)),
          count_(n) {
      size_type built = 0;
      try {
        for (; built < n; ++built)
          ::new (static_cast<void *>(data_ + built)) shard(a);
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

    void swap(shard_array &o) noexcept {
      using std::swap;
      swap(alloc_, o.alloc_);
      swap(data_, o.data_);
      swap(count_, o.count_);
      swap(bits_, o.bits_);
    }

    shard &operator[](size_type i) noexcept { return data_[i]; }
    const shard &operator[](size_type i) const noexcept { return data_[i]; }
    size_type count() const noexcept { return count_; }
    unsigned bits() const noexcept { return bits_; }
    Alloc allocator() const { return Alloc(alloc_); }

  private:
    void destroy(size_type built) noexcept {
      for (size_type i = built; i > 0; --i)
        data_[i - 1].~shard();
      std::allocator_traits<shard_alloc>::deallocate(alloc_, data_, count_);
    }
    shard_alloc alloc_;
    shard *data_;
    size_type count_;
    unsigned bits_ = 0;
  };

  static constexpr bool checks = CONCGUARD_REENTRANCY_CHECKS != 0;
  using marker = hold_marker<checks>;

  class write_access {
  public:
    write_access(const optimistic_sharded_map *m, shard &s) : s_(s), mark_(m) {
      s_.lock.lock();
    }
    ~write_access() { s_.lock.unlock(); }
    write_access(const write_access &) = delete;
    write_access &operator=(const write_access &) = delete;

  private:
    shard &s_;
    marker mark_;
  };

  void check_entry(const char *operation) const noexcept {
    check_not_reentrant<checks>(this, "concguard::sharded_map", operation);
  }

  /// The value for `key` into `out`, validated against the shard's count.
  /// After a few failed attempts (a writer keeps the shard busy) it takes
  /// the lock rather than spin indefinitely.
  template <class Q>
  bool read(const Q &key, V &out, K *stored = nullptr) const {
    const std::uint64_t h = hash_of(key);
    const shard &s = shard_for_hash(h);
    for (int attempt = 0; attempt < 4; ++attempt) {
      const std::uint32_t seq = s.lock.read_begin();
      if ((seq & 1) != 0) {
        cpu_relax();
        continue;
      }
      const bool found = s.table.read(key, h, eq_, out, stored);
      if (s.lock.read_validate(seq))
        return found;
    }
    s.lock.lock();
    const bool found = s.table.read(key, h, eq_, out, stored);
    s.lock.unlock();
    return found;
  }

  template <bool Const, class F>
  bool insert_or_visit_impl(const K &key, const V &value, F &f) {
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos) {
      s.table.insert_new(key, h, value, hasher_of());
      return true;
    }
    V v = s.table.value_at(i);
    if constexpr (Const) {
      call_visitor(f, key, static_cast<const V &>(v));
    } else {
      call_visitor(f, key, v);
      s.table.store_value(i, v);
    }
    return false;
  }

  /// Copies each shard under its lock, then calls f on the copies; stops
  /// (returning false) when f returns false.
  template <class F> bool for_each_impl(F &&f) const {
    std::vector<std::pair<K, V>> copy;
    for (size_type si = 0; si < shards_.count(); ++si) {
      const shard &s = shards_[si];
      copy.clear();
      s.lock.lock();
      copy.reserve(s.table.size());
      s.table.for_each_index([&](std::size_t i) {
        copy.emplace_back(s.table.key_at(i), s.table.value_at(i));
      });
      s.lock.unlock();
      for (const auto &kv : copy)
        if (!call_continue(f, static_cast<const K &>(kv.first),
                           static_cast<const V &>(kv.second)))
          return false;
    }
    return true;
  }

  bool insert_impl(const K &key, const V &value) {
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    if (s.table.find(key, h, eq_) != table_type::npos)
      return false;
    s.table.insert_new(key, h, value, hasher_of());
    return true;
  }

  template <class... A> bool emplace_impl(const K &key, A &&...args) {
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    if (s.table.find(key, h, eq_) != table_type::npos)
      return false; // args untouched
    s.table.insert_new(key, h, V(std::forward<A>(args)...), hasher_of());
    return true;
  }

  template <class Q> std::optional<V> get_impl(const Q &key) const {
    check_entry("get");
    V v{};
    if (read(key, v))
      return std::optional<V>(v);
    return std::nullopt;
  }

  template <class Q> V at_impl(const Q &key) const {
    check_entry("at");
    V v{};
    if (!read(key, v))
      throw std::out_of_range("concguard::sharded_map::at: key not found");
    return v;
  }

  template <class Q> bool contains_impl(const Q &key) const {
    check_entry("contains");
    V v{};
    return read(key, v);
  }

  /// A visitor taking the key receives the stored K, also when the lookup
  /// was by another type.
  template <class Q, class F> bool visit_impl(const Q &key, F &f) const {
    check_entry("visit");
    V v{};
    if constexpr (std::is_same_v<Q, K>) {
      if (!read(key, v))
        return false;
      marker mark(this);
      call_visitor(f, key, static_cast<const V &>(v));
    } else {
      K stored{};
      if (!read(key, v, &stored))
        return false;
      marker mark(this);
      call_visitor(f, static_cast<const K &>(stored),
                   static_cast<const V &>(v));
    }
    return true;
  }

  template <class Q, class F> bool update_impl(const Q &key, F &f) {
    check_entry("update");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos)
      return false;
    const K k = s.table.key_at(i);
    V v = s.table.value_at(i);
    call_visitor(f, k, v);
    s.table.store_value(i, v);
    return true;
  }

  template <class Q> size_type erase_impl(const Q &key) {
    check_entry("erase");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos)
      return 0;
    s.table.erase_at(i, hasher_of());
    return 1;
  }

  template <class Q, class P>
  size_type erase_key_if_impl(const Q &key, P &pred) {
    check_entry("erase_if");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos)
      return 0;
    const K k = s.table.key_at(i);
    const V v = s.table.value_at(i);
    if (!call_visitor(pred, k, v))
      return 0;
    s.table.erase_at(i, hasher_of());
    return 1;
  }

  template <class Q> std::optional<V> load_and_delete_impl(const Q &key) {
    check_entry("load_and_delete");
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos)
      return std::nullopt;
    const V v = s.table.value_at(i);
    s.table.erase_at(i, hasher_of());
    return std::optional<V>(v);
  }

  template <bool Const, class Tuple, std::size_t... I>
  bool emplace_or_visit_impl(const K &key, Tuple &all,
                             std::index_sequence<I...>) {
    auto &f = std::get<sizeof...(I)>(all);
    const std::uint64_t h = hash_of(key);
    shard &s = shard_for_hash(h);
    write_access a(this, s);
    const std::size_t i = s.table.find(key, h, eq_);
    if (i == table_type::npos) {
      s.table.insert_new(key, h, V(std::get<I>(std::move(all))...),
                         hasher_of());
      return true;
    }
    V v = s.table.value_at(i);
    if constexpr (Const) {
      call_visitor(f, key, static_cast<const V &>(v));
    } else {
      call_visitor(f, key, v);
      s.table.store_value(i, v);
    }
    return false;
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

  template <class Q> std::uint64_t hash_of(const Q &key) const {
    return mix_hash(static_cast<std::uint64_t>(hash_(key)));
  }
  auto hasher_of() const {
    return [this](const K &k) { return hash_of(k); };
  }
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

/// A concurrent hash map made of independently locked shards, each a hash
/// table behind a reader-writer spinlock on its own cache line. The shard of
/// a key is chosen from a mixed hash, so keys that differ only in their high
/// bits (pointers, multiples of a power of two) still spread.
///
/// When K and V are small trivially copyable types (optimistic_elements:
/// integers, enums, pointers...), the shards are optimistic instead: point
/// reads take no lock and write no shared memory, validated by the shard's
/// sequence count, and read callbacks run on a validated copy (see
/// detail::optimistic_sharded_map).
///
/// Guarantees:
/// - Every member function is safe to call concurrently with any other,
///   except destruction, moving from the map (move construction or move
///   assignment) and swap, which like destruction need the map(s) to
///   themselves (and assignment to the same map from two threads, which is
///   safe but its result is unspecified).
/// - With a transparent Hash and KeyEqual (both declare is_transparent), the
///   lookups (get, at, contains, count, visit, cvisit, update, erase,
///   erase_if(k, pred), load_and_delete) accept any key type they accept.
/// - Every allocation (shard array, tables, element arrays) goes through a
///   rebound copy of Allocator; the allocator moves with the shards on move
///   and swap.
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
          class KeyEqual = std::equal_to<K>,
          class Allocator = std::allocator<std::pair<const K, V>>>
class sharded_map
    : public std::conditional_t<
          detail::optimistic_elements<K, V>,
          detail::optimistic_sharded_map<K, V, Hash, KeyEqual, Allocator>,
          detail::basic_sharded_map<K, V, Hash, KeyEqual, detail::rw_spinlock,
                                    Allocator>> {
  using base = std::conditional_t<
      detail::optimistic_elements<K, V>,
      detail::optimistic_sharded_map<K, V, Hash, KeyEqual, Allocator>,
      detail::basic_sharded_map<K, V, Hash, KeyEqual, detail::rw_spinlock,
                                Allocator>>;

public:
  using base::base;

  /// Exchanges the contents of two maps in O(1); not safe while another
  /// thread uses either map.
  friend void swap(sharded_map &a, sharded_map &b) noexcept { a.swap(b); }
};

} // namespace concguard

#endif // CONCGUARD_SHARDED_MAP_HPP
