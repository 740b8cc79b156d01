//===- concguard/snapshot_map.hpp - copy-on-write snapshot map --*- C++ -*-===//
//
// Part of concguard, header-only, standard library only, C++17 or later.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// concguard::snapshot_map: a map for read-mostly data. Readers see an
/// immutable snapshot and never wait for writers or for each other; a writer
/// copies the current snapshot once per batch, edits the copy and publishes
/// it atomically. The default snapshot type is a persistent hash trie
/// (concguard::persistent_map), whose copy is O(1) and whose changes copy
/// only the path to one entry, so a write costs O(log n).
///
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_SNAPSHOT_MAP_HPP
#define CONCGUARD_SNAPSHOT_MAP_HPP

#include "concguard/detail/common.hpp"
#include "concguard/persistent_map.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace concguard {
namespace detail {

/// Process-wide source of snapshot_map identities. An identity is never
/// reused, unlike an address, so a per-thread cache entry of a destroyed map
/// can never be mistaken for a new map built at the same address. The
/// identity also records which counter issued it, so two copies of this
/// function (one per shared library with hidden visibility) cannot collide.
struct map_identity {
  const void *issuer;
  std::uint64_t serial;
  friend bool operator==(const map_identity &a, const map_identity &b) {
    return a.serial == b.serial && a.issuer == b.issuer;
  }
};

inline map_identity next_map_identity() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return map_identity{&counter,
                      counter.fetch_add(1, std::memory_order_relaxed) + 1};
}

} // namespace detail

/// A map for read-mostly data built on copy-on-write immutable snapshots of a
/// `Map` (concguard::persistent_map<K, V> by default; any map with find,
/// try_emplace, insert_or_assign, erase(key) and iteration works, e.g.
/// std::map<K, V> for key order, at O(n) per write).
///
/// Reads (get, at, contains, count, visit, for_each, size, empty, snapshot)
/// use the current snapshot and take no lock in the common case: each thread
/// keeps a cached std::shared_ptr to the last snapshot it saw and revalidates
/// it with one load of an atomic version counter, so reads scale with
/// threads (unlike std::atomic<std::shared_ptr>, which takes a lock per load
/// in libstdc++). When the version changed, the thread refreshes its cache
/// under a mutex held only for a pointer copy.
///
/// Writes are serialized by a writer mutex. update(f) copies the current
/// snapshot once, calls f(Map&) on the copy and publishes it; the convenience
/// writers are one-entry batches and skip the copy when they would change
/// nothing (insert of a present key, erase of an absent one...). With the
/// default persistent_map the copy shares every node and a one-entry change
/// copies O(log n) of them; with another Map a write copies the whole map.
///
/// Guarantees:
/// - Every member function is safe to call concurrently with any other,
///   except destruction.
/// - A reader sees one snapshot for the whole operation: for_each visits a
///   consistent state, and a batch published by update() is seen entirely or
///   not at all.
/// - Read callbacks (visit, for_each) hold no lock; they may call any member
///   of this map, including writers (they keep seeing their own snapshot).
/// - Writer callbacks (update, upsert, erase_if, for_each_mut) run under the
///   writer mutex and must not call back into the same map: a debug build
///   (CONCGUARD_REENTRANCY_CHECKS, on unless NDEBUG) aborts with a message, a
///   release build deadlocks on a write and reads the old snapshot on a read.
/// - If a writer callback (or a copy of K/V) throws, nothing is published:
///   the map keeps its previous snapshot and the writer mutex is released
///   (strong guarantee for every writer).
/// - Memory: each thread that read a map keeps the snapshot it last saw
///   alive until its next read of a map of the same type that needs a
///   refresh, release_thread_cache(), or thread exit — at most
///   `thread_cache_entries` snapshots per thread and map type, also after the
///   map itself is destroyed.
template <class K, class V, class Map = persistent_map<K, V>>
class snapshot_map {
  /// Whether Map looks up by other types than K (transparent comparator, or
  /// transparent hasher and key_equal).
  template <class M, class = void>
  struct compare_is_transparent : std::false_type {};
  template <class M>
  struct compare_is_transparent<M, std::void_t<typename M::key_compare>>
      : detail::has_is_transparent<typename M::key_compare> {};
  template <class M, class = void>
  struct hash_is_transparent : std::false_type {};
  template <class M>
  struct hash_is_transparent<
      M, std::void_t<typename M::hasher, typename M::key_equal>>
      : std::bool_constant<
            detail::has_is_transparent<typename M::hasher>::value &&
            detail::has_is_transparent<typename M::key_equal>::value> {};

  template <class Q>
  using if_transparent = std::enable_if_t<(compare_is_transparent<Map>::value ||
                                           hash_is_transparent<Map>::value) &&
                                              !std::is_void_v<Q>,
                                          int>;

public:
  using key_type = K;
  using mapped_type = V;
  using map_type = Map;
  using value_type = typename Map::value_type;
  using size_type = std::size_t;
  using snapshot_type = std::shared_ptr<const Map>;

  /// Number of (map, snapshot) pairs each thread caches per map type.
  static constexpr unsigned thread_cache_entries = 8;

  /// Creates an empty map.
  snapshot_map() : current_(std::make_shared<const Map>()) {}

  /// Creates a map whose first snapshot is `initial`.
  explicit snapshot_map(Map initial)
      : current_(std::make_shared<const Map>(std::move(initial))) {}

  /// Creates a map holding `init`.
  snapshot_map(std::initializer_list<value_type> init)
      : current_(std::make_shared<const Map>(init)) {}

  /// Shares `other`'s current snapshot (no element is copied).
  snapshot_map(const snapshot_map &other) : current_(other.snapshot()) {}

  /// Publishes `other`'s current snapshot as this map's (no element is
  /// copied).
  snapshot_map &operator=(const snapshot_map &other) {
    if (this != &other) {
      snapshot_type next = other.snapshot();
      check_entry("operator=");
      snapshot_type old;
      std::lock_guard<std::mutex> w(write_mutex_);
      old = publish(std::move(next));
    }
    return *this;
  }

  ~snapshot_map() = default;

  //===-- Reads: no lock, one consistent snapshot ------------------------===//

  /// The current snapshot; it stays valid and unchanged for as long as the
  /// caller keeps it, whatever writers do meanwhile.
  snapshot_type snapshot() const {
    return read("snapshot", [](const snapshot_type &s) { return s; });
  }

  /// Returns a copy of the value for `key`, or std::nullopt.
  std::optional<V> get(const K &key) const {
    return read("get", [&](const snapshot_type &s) -> std::optional<V> {
      const auto *e = entry_of(*s, key);
      if (e == nullptr)
        return std::nullopt;
      return std::optional<V>(e->second);
    });
  }

  /// Returns a copy of the value for `key`; throws std::out_of_range if the
  /// key is absent.
  V at(const K &key) const {
    std::optional<V> v = read("at", [&](const snapshot_type &s) {
      const auto *e = entry_of(*s, key);
      return e == nullptr ? std::optional<V>() : std::optional<V>(e->second);
    });
    if (!v)
      throw std::out_of_range("concguard::snapshot_map::at: key not found");
    return std::move(*v);
  }

  /// Whether `key` is present.
  bool contains(const K &key) const {
    return read("contains", [&](const snapshot_type &s) {
      return entry_of(*s, key) != nullptr;
    });
  }

  /// 1 if `key` is present, else 0.
  size_type count(const K &key) const {
    return read("count", [&](const snapshot_type &s) -> size_type {
      return entry_of(*s, key) != nullptr ? 1 : 0;
    });
  }

  /// Calls `f(const V&)` on the value for `key` in the current snapshot,
  /// without copying and without holding any lock. Returns whether the key
  /// was present.
  template <class F> bool visit(const K &key, F &&f) const {
    return visit_entry(key, f);
  }

  /// Boost's names: cvisit = visit, visit_all = for_each.
  template <class F> bool cvisit(const K &key, F &&f) const {
    return visit(key, std::forward<F>(f));
  }

  //===-- Lookup by another type
  //-------------------------------------------===//

  /// When the snapshot's Map looks up by other types (persistent_map or an
  /// unordered map whose hasher and key_equal are transparent, or a
  /// std::map whose key_compare is), the reads also accept them, without
  /// building a K.
  template <class Q, if_transparent<Q> = 0>
  std::optional<V> get(const Q &key) const {
    return read("get", [&](const snapshot_type &s) -> std::optional<V> {
      const auto *e = entry_of(*s, key);
      return e == nullptr ? std::optional<V>() : std::optional<V>(e->second);
    });
  }
  template <class Q, if_transparent<Q> = 0> V at(const Q &key) const {
    std::optional<V> v = get(key);
    if (!v)
      throw std::out_of_range("concguard::snapshot_map::at: key not found");
    return std::move(*v);
  }
  template <class Q, if_transparent<Q> = 0> bool contains(const Q &key) const {
    return read("contains", [&](const snapshot_type &s) {
      return entry_of(*s, key) != nullptr;
    });
  }
  template <class Q, if_transparent<Q> = 0>
  size_type count(const Q &key) const {
    return contains(key) ? 1 : 0;
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool visit(const Q &key, F &&f) const {
    return visit_entry(key, f);
  }
  template <class Q, class F, if_transparent<Q> = 0>
  bool cvisit(const Q &key, F &&f) const {
    return visit(key, std::forward<F>(f));
  }
  template <class F> void visit_all(F &&f) const {
    for_each(std::forward<F>(f));
  }

  /// Like for_each, but `f` returns bool and false stops the iteration;
  /// returns false if it stopped early.
  template <class F> bool visit_while(F &&f) const {
    return read("visit_while", [&](const snapshot_type &s) {
      for (const auto &kv : *s)
        if (!detail::call_continue(f, static_cast<const K &>(kv.first),
                                   static_cast<const V &>(kv.second)))
          return false;
      return true;
    });
  }

  /// Calls `f(const K&, const V&)` on every element of one snapshot; if f
  /// returns bool, returning false stops the iteration.
  template <class F> void for_each(F &&f) const {
    read("for_each", [&](const snapshot_type &s) {
      for (const auto &kv : *s)
        if (!detail::call_continue(f, static_cast<const K &>(kv.first),
                                   static_cast<const V &>(kv.second)))
          break;
      return 0;
    });
  }

  /// Number of elements in the current snapshot.
  size_type size() const {
    return read("size",
                [](const snapshot_type &s) -> size_type { return s->size(); });
  }

  /// Whether the current snapshot is empty.
  bool empty() const {
    return read("empty", [](const snapshot_type &s) { return s->empty(); });
  }

  //===-- Writes: serialized, one copy per batch -------------------------===//

  /// Copies the current snapshot, calls `f(Map&)` on the copy and publishes
  /// it; readers see all of the batch or none of it. If f throws, nothing is
  /// published. `f` must not call into this map.
  template <class F> void update(F &&f) {
    write(
        "update", [](const Map &) { return true; },
        [&](Map &m) { std::forward<F>(f)(m); });
  }

  /// Calls `f(V&)` on a copy of the value for `key` and publishes it if the
  /// key is present; returns whether it was (no copy is made otherwise).
  template <class F> bool update(const K &key, F &&f) {
    return write(
        "update", [&](const Map &m) { return entry_of(m, key) != nullptr; },
        [&](Map &m) {
          auto it = m.find(key);
          detail::call_visitor(f, static_cast<const K &>(it->first),
                               it->second);
        });
  }

  /// Inserts a value-initialized V for `key` if absent, then calls `f(V&)`
  /// on it, in one batch.
  template <class F> void upsert(const K &key, F &&f) {
    write(
        "upsert", [](const Map &) { return true; },
        [&](Map &m) {
          auto it = m.try_emplace(key).first;
          detail::call_visitor(f, static_cast<const K &>(it->first),
                               it->second);
        });
  }

  /// Returns a copy of the value for `key`, inserting a value-initialized V
  /// first if it is absent (only then is a snapshot copied).
  V get_or_insert_default(const K &key) {
    check_entry("get_or_insert_default");
    std::optional<V> v = get(key);
    if (v)
      return std::move(*v);
    snapshot_type old;
    std::lock_guard<std::mutex> w(write_mutex_);
    marker mark(this);
    auto it = current_->find(key); // a writer may have inserted it meanwhile
    if (it != current_->end())
      return it->second;
    auto next = std::make_shared<Map>(*current_);
    V result = next->try_emplace(key).first->second;
    old = publish(std::move(next));
    return result;
  }

  /// Inserts (key, value) if `key` is absent; returns whether it inserted.
  bool insert(K key, V value) {
    return write(
        "insert", [&](const Map &m) { return entry_of(m, key) == nullptr; },
        [&](Map &m) { m.try_emplace(std::move(key), std::move(value)); });
  }

  /// Constructs V from `args` and inserts it if `key` is absent; returns
  /// whether it inserted (`args` are not used otherwise).
  template <class... A> bool emplace(K key, A &&...args) {
    return try_emplace_impl("emplace", std::move(key),
                            std::forward<A>(args)...);
  }

  /// Like std::unordered_map::try_emplace; returns whether it inserted.
  template <class... A> bool try_emplace(K key, A &&...args) {
    return try_emplace_impl("try_emplace", std::move(key),
                            std::forward<A>(args)...);
  }

  /// Inserts or overwrites the value for `key`; returns true if it inserted.
  bool insert_or_assign(K key, V value) {
    bool inserted = false;
    write(
        "insert_or_assign", [](const Map &) { return true; },
        [&](Map &m) {
          inserted =
              m.insert_or_assign(std::move(key), std::move(value)).second;
        });
    return inserted;
  }

  /// Removes `key`; returns the number of elements removed (0 or 1).
  size_type erase(const K &key) {
    return write(
               "erase",
               [&](const Map &m) { return entry_of(m, key) != nullptr; },
               [&](Map &m) { m.erase(key); })
               ? 1
               : 0;
  }

  /// Removes `key` if `pred(const V&)` (or `pred(const K&, const V&)`) is
  /// true on the current value; returns 0 or 1.
  template <class P> size_type erase_if(const K &key, P &&pred) {
    return write(
               "erase_if",
               [&](const Map &m) {
                 auto it = m.find(key);
                 return it != m.end() &&
                        detail::call_visitor(
                            pred, static_cast<const K &>(it->first),
                            static_cast<const V &>(it->second));
               },
               [&](Map &m) { m.erase(key); })
               ? 1
               : 0;
  }

  /// Inserts (key, value) if absent, else calls `f(V&)` (or `f(const K&,
  /// V&)`) on the value in a one-entry batch; returns true if inserted.
  template <class F> bool insert_or_visit(K key, V value, F &&f) {
    bool inserted = false;
    write(
        "insert_or_visit", [](const Map &) { return true; },
        [&](Map &m) {
          auto r = m.try_emplace(std::move(key), std::move(value));
          inserted = r.second;
          if (!inserted)
            detail::call_visitor(f, static_cast<const K &>(r.first->first),
                                 r.first->second);
        });
    return inserted;
  }

  /// insert_or_visit with a read-only visitor; publishes nothing (and
  /// copies nothing) when the key is present.
  template <class F> bool insert_or_cvisit(K key, V value, F &&f) {
    bool present = false;
    const bool inserted = write(
        "insert_or_cvisit",
        [&](const Map &m) {
          auto it = m.find(key);
          if (it == m.end())
            return true;
          present = true;
          detail::call_visitor(f, static_cast<const K &>(it->first),
                               static_cast<const V &>(it->second));
          return false;
        },
        [&](Map &m) { m.try_emplace(std::move(key), std::move(value)); });
    return inserted && !present;
  }

  /// Boost's emplace_or_visit: `emplace_or_visit(key, args..., f)` inserts
  /// V(args...) if `key` is absent (true), else calls `f(V&)` (or
  /// `f(const K&, V&)`) on the value, in a one-entry batch (false).
  template <class... A> bool emplace_or_visit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_visit(key, args..., f)");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_visit_impl(std::move(key), all,
                                 std::make_index_sequence<sizeof...(A) - 1>());
  }

  /// emplace_or_visit with a read-only visitor; publishes nothing (and
  /// copies nothing) when the key is present.
  template <class... A> bool emplace_or_cvisit(K key, A &&...args_then_f) {
    static_assert(sizeof...(A) >= 1, "emplace_or_cvisit(key, args..., f)");
    auto all = std::forward_as_tuple(std::forward<A>(args_then_f)...);
    return emplace_or_cvisit_impl(std::move(key), all,
                                  std::make_index_sequence<sizeof...(A) - 1>());
  }

  /// Go's sync.Map.LoadOrStore: the value now in the map and whether it was
  /// already there (then nothing is published).
  std::pair<V, bool> load_or_store(K key, V value) {
    std::optional<V> loaded;
    write(
        "load_or_store",
        [&](const Map &m) {
          auto it = m.find(key);
          if (it != m.end())
            loaded.emplace(it->second);
          return !loaded;
        },
        [&](Map &m) { m.try_emplace(std::move(key), value); });
    if (loaded)
      return {std::move(*loaded), true};
    return {std::move(value), false};
  }

  /// Go's sync.Map.LoadAndDelete: removes `key` and returns its value.
  std::optional<V> load_and_delete(const K &key) {
    std::optional<V> out;
    write(
        "load_and_delete",
        [&](const Map &m) {
          auto it = m.find(key);
          if (it != m.end())
            out.emplace(it->second);
          return out.has_value();
        },
        [&](Map &m) { m.erase(key); });
    return out;
  }

  /// Go's sync.Map.CompareAndSwap: sets `key`'s value to `desired` if it is
  /// present and equal to `expected`; returns whether it did.
  bool compare_and_swap(const K &key, const V &expected, V desired) {
    return write(
        "compare_and_swap",
        [&](const Map &m) {
          auto it = m.find(key);
          return it != m.end() &&
                 static_cast<const V &>(it->second) == expected;
        },
        [&](Map &m) { m.find(key)->second = std::move(desired); });
  }

  /// folly::ConcurrentHashMap's name for compare_and_swap.
  bool assign_if_equal(const K &key, const V &expected, V desired) {
    return compare_and_swap(key, expected, std::move(desired));
  }

  /// Exchanges the current snapshots of two maps, atomically for each map's
  /// readers (each sees the other's contents from one snapshot on). Safe
  /// while other threads use either map; `other` must not be this map.
  void swap(snapshot_map &other) {
    if (this == &other)
      return;
    check_entry("swap");
    other.check_entry("swap");
    snapshot_type mine, theirs;
    std::scoped_lock both(write_mutex_, other.write_mutex_);
    mine = current_;
    theirs = other.current_;
    publish(theirs);
    other.publish(mine);
  }
  friend void swap(snapshot_map &a, snapshot_map &b) { a.swap(b); }

  /// Removes every element for which `pred(const K&, const V&)` is true, in
  /// one batch; returns how many. Publishes nothing if none matched.
  template <class P> size_type erase_if(P &&pred) {
    check_entry("erase_if");
    snapshot_type old;
    std::lock_guard<std::mutex> w(write_mutex_);
    marker mark(this);
    // Select on the current snapshot (nothing copied if nothing matches),
    // then erase the selected keys from one copy.
    std::vector<K> doomed;
    for (const auto &kv : static_cast<const Map &>(*current_))
      if (pred(static_cast<const K &>(kv.first),
               static_cast<const V &>(kv.second)))
        doomed.push_back(kv.first);
    if (doomed.empty())
      return 0;
    auto next = std::make_shared<Map>(*current_);
    for (const K &key : doomed)
      next->erase(key);
    old = publish(std::move(next));
    return doomed.size();
  }

  /// Calls `f(const K&, V&)` on every element of a copy and publishes it, in
  /// one batch.
  template <class F> void for_each_mut(F &&f) {
    write(
        "for_each_mut", [](const Map &) { return true; },
        [&](Map &m) {
          for (auto &kv : m)
            f(static_cast<const K &>(kv.first), kv.second);
        });
  }

  /// Publishes an empty (default-constructed) Map, unless already empty.
  void clear() {
    check_entry("clear");
    snapshot_type old;
    std::lock_guard<std::mutex> w(write_mutex_);
    if (!current_->empty())
      old = publish(std::make_shared<const Map>());
  }

  /// Drops this thread's cached snapshots of every snapshot_map of this type
  /// (except those a read callback on this thread is using right now), so
  /// they can be freed. Never needed for correctness.
  static void release_thread_cache() noexcept {
    for (cache_entry &e : thread_cache().entries)
      if (e.pins == 0) {
        e.id = detail::map_identity{nullptr, 0};
        e.version = 0;
        e.snap.reset();
      }
  }

private:
  static constexpr bool checks = CONCGUARD_REENTRANCY_CHECKS != 0;
  using marker = detail::hold_marker<checks>;

  struct cache_entry {
    detail::map_identity id{nullptr, 0};
    std::uint64_t version = 0;
    unsigned pins = 0; // read callbacks of this thread using `snap` now
    snapshot_type snap;
  };

  struct thread_cache_t {
    cache_entry entries[thread_cache_entries];
    unsigned next_victim = 0;

    cache_entry *find(const detail::map_identity &id) noexcept {
      for (cache_entry &e : entries)
        if (e.id == id)
          return &e;
      return nullptr;
    }

    /// An entry that may be overwritten: an unused one, else round-robin
    /// among those no read callback is using; nullptr if all are in use.
    cache_entry *victim() noexcept {
      for (cache_entry &e : entries)
        if (e.id.serial == 0)
          return &e;
      for (unsigned i = 0; i < thread_cache_entries; ++i) {
        cache_entry &e = entries[next_victim++ % thread_cache_entries];
        if (e.pins == 0)
          return &e;
      }
      return nullptr;
    }
  };

  static thread_cache_t &thread_cache() noexcept {
    thread_local thread_cache_t cache;
    return cache;
  }

  class pin {
  public:
    explicit pin(cache_entry &e) noexcept : e_(e) { ++e_.pins; }
    ~pin() { --e_.pins; }
    pin(const pin &) = delete;
    pin &operator=(const pin &) = delete;

  private:
    cache_entry &e_;
  };

  void check_entry(const char *operation) const noexcept {
    detail::check_not_reentrant<checks>(this, "concguard::snapshot_map",
                                        operation);
  }

  template <class M, class = void> struct has_find_entry : std::false_type {};
  template <class M>
  struct has_find_entry<
      M, std::void_t<decltype(std::declval<const M &>().find_entry(
             std::declval<const K &>()))>> : std::true_type {};

  /// The element for `key` in `m`, or nullptr. persistent_map::find_entry
  /// builds no iterator (an iterator carries the whole path).
  template <class Q>
  static const value_type *entry_of(const Map &m, const Q &key) {
    if constexpr (has_find_entry<Map>::value) {
      return m.find_entry(key);
    } else {
      auto it = m.find(key);
      return it == m.end() ? nullptr : &*it;
    }
  }

  /// visit() by K or by another type: `f(key, value)` or `f(value)` on the
  /// element in the current snapshot, without copying and without a lock.
  template <class Q, class F> bool visit_entry(const Q &key, F &f) const {
    return read("visit", [&](const snapshot_type &s) {
      const auto *e = entry_of(*s, key);
      if (e == nullptr)
        return false;
      detail::call_visitor(f, static_cast<const K &>(e->first),
                           static_cast<const V &>(e->second));
      return true;
    });
  }

  /// Runs fn(const snapshot_type&) on the current snapshot. Fast path: this
  /// thread's cache entry for the map is still current (one atomic load).
  /// The entry is pinned while fn runs so that a nested read from inside a
  /// callback cannot replace (and free) the snapshot fn is using.
  template <class Fn> auto read(const char *operation, Fn &&fn) const {
    check_entry(operation);
    thread_cache_t &cache = thread_cache();
    cache_entry *e = cache.find(id_);
    const std::uint64_t v = version_.load(std::memory_order_acquire);
    if (e != nullptr && e->version == v) {
      pin p(*e);
      return fn(static_cast<const snapshot_type &>(e->snap));
    }
    return read_slow(cache, e, fn);
  }

  template <class Fn>
  auto read_slow(thread_cache_t &cache, cache_entry *e, Fn &fn) const {
    snapshot_type fresh;
    std::uint64_t fresh_version;
    {
      std::lock_guard<std::mutex> g(publish_mutex_);
      fresh = current_;
      fresh_version = current_version_;
    }
    if (e == nullptr)
      e = cache.victim();
    if (e == nullptr || e->pins != 0) // in use by an outer read on this thread
      return fn(static_cast<const snapshot_type &>(fresh));
    snapshot_type evicted = std::move(e->snap);
    e->snap = std::move(fresh);
    e->id = id_;
    e->version = fresh_version;
    evicted.reset(); // may free a Map; the entry is already consistent
    pin p(*e);
    return fn(static_cast<const snapshot_type &>(e->snap));
  }

  /// Publishes `next` as the current snapshot; the caller holds
  /// write_mutex_. Returns the previous snapshot so the caller can release it
  /// after unlocking.
  snapshot_type publish(snapshot_type next) {
    {
      std::lock_guard<std::mutex> g(publish_mutex_);
      current_.swap(next);
      ++current_version_;
      version_.store(current_version_, std::memory_order_release);
    }
    return next;
  }

  /// One writer batch: if `needed(current)` is true, copy the current
  /// snapshot, apply `mutate` to the copy and publish it. Returns `needed`.
  template <class Needed, class Mutate>
  bool write(const char *operation, Needed &&needed, Mutate &&mutate) {
    check_entry(operation);
    snapshot_type old; // destroyed last, after the writer mutex is released
    std::lock_guard<std::mutex> w(write_mutex_);
    marker mark(this);
    // Only writers change current_, and they hold write_mutex_: reading it
    // here needs no other lock.
    if (!needed(static_cast<const Map &>(*current_)))
      return false;
    auto next = std::make_shared<Map>(*current_);
    mutate(*next);
    old = publish(std::move(next));
    return true;
  }

  template <class Tuple, std::size_t... I>
  bool emplace_or_visit_impl(K &&key, Tuple &all, std::index_sequence<I...>) {
    auto &f = std::get<sizeof...(I)>(all);
    bool inserted = false;
    write(
        "emplace_or_visit", [](const Map &) { return true; },
        [&](Map &m) {
          auto r =
              m.try_emplace(std::move(key), std::get<I>(std::move(all))...);
          inserted = r.second;
          if (!inserted)
            detail::call_visitor(f, static_cast<const K &>(r.first->first),
                                 r.first->second);
        });
    return inserted;
  }

  template <class Tuple, std::size_t... I>
  bool emplace_or_cvisit_impl(K &&key, Tuple &all, std::index_sequence<I...>) {
    auto &f = std::get<sizeof...(I)>(all);
    bool present = false;
    const bool inserted = write(
        "emplace_or_cvisit",
        [&](const Map &m) {
          const auto *e = entry_of(m, key);
          if (e == nullptr)
            return true;
          present = true;
          detail::call_visitor(f, static_cast<const K &>(e->first),
                               static_cast<const V &>(e->second));
          return false;
        },
        [&](Map &m) {
          m.try_emplace(std::move(key), std::get<I>(std::move(all))...);
        });
    return inserted && !present;
  }

  template <class... A>
  bool try_emplace_impl(const char *operation, K key, A &&...args) {
    return write(
        operation, [&](const Map &m) { return entry_of(m, key) == nullptr; },
        [&](Map &m) {
          m.try_emplace(std::move(key), std::forward<A>(args)...);
        });
  }

  // Read by every reader on every operation; written only on publish.
  const detail::map_identity id_ = detail::next_map_identity();
  std::atomic<std::uint64_t> version_{1};

  // Writer side, on its own cache line.
  alignas(detail::cache_line_size) std::mutex write_mutex_;
  mutable std::mutex publish_mutex_; // guards current_ and current_version_
  snapshot_type current_;
  std::uint64_t current_version_ = 1;
};

} // namespace concguard

#endif // CONCGUARD_SNAPSHOT_MAP_HPP
