//===- concguard/persistent_map.hpp - persistent hash trie ------*- C++ -*-===//
//
// Part of concguard, header-only, standard library only, C++17 or later.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// concguard::persistent_map: an unordered map whose copies share structure.
/// It is the default representation of concguard::snapshot_map's snapshots:
/// copying one is O(1), and a change to a copy costs O(log n) (it copies the
/// path from the root to one entry) instead of O(n).
///
/// The structure is a hash array mapped trie (after Bagwell's HAMT, with the
/// separate entry and child bitmaps of Steindorfer and Vinju's CHAMP): each
/// node consumes 6 bits of the key's 64-bit hash and holds, in two dense
/// arrays indexed by the popcount of a 64-bit bitmap, the entries that are
/// alone in their 64th of the hash space and the child nodes for the others.
/// Keys whose 64-bit hashes are equal end in a collision node (a plain list).
/// Maps of about 2^15 entries and more also keep a root index: a flat table
/// that sends a lookup straight to the third level.
///
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_PERSISTENT_MAP_HPP
#define CONCGUARD_PERSISTENT_MAP_HPP

#include "concguard/detail/common.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace concguard {
namespace detail {

/// Population count of a 32-bit bitmap. Without -mpopcnt the builtin is a
/// library call on x86-64; this branch-free version costs a few cycles.
inline unsigned popcount32(std::uint32_t x) noexcept {
#if defined(__POPCNT__) || defined(__aarch64__)
  return static_cast<unsigned>(__builtin_popcount(x));
#else
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0fu;
  return (x * 0x01010101u) >> 24;
#endif
}

/// Population count of a 64-bit bitmap (the portable fallback, as above).
inline unsigned popcount64(std::uint64_t x) noexcept {
#if defined(__POPCNT__) || defined(__aarch64__)
  return static_cast<unsigned>(__builtin_popcountll(x));
#else
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<unsigned>((x * 0x0101010101010101ull) >> 56);
#endif
}

inline unsigned popcount(std::uint32_t x) noexcept { return popcount32(x); }
inline unsigned popcount(std::uint64_t x) noexcept { return popcount64(x); }

/// The population counts of the read-only lookup (persistent_map's
/// find_entry, which every snapshot_map read uses) run once or twice per trie
/// level, and without -mpopcnt (the x86-64 baseline that distributions build
/// for) popcount32 above is about 12 instructions where the CPU has one: it
/// was 60% of a lookup's instructions. So on x86 compilers that support it
/// the lookup is compiled twice, once for CPUs with popcnt (a function with
/// the `target("popcnt")` attribute, chosen at run time by
/// __builtin_cpu_supports) and once portable. Before libgcc has read the CPU
/// features (code running in static constructors) the portable one runs:
/// both give the same answers.
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__POPCNT__) &&      \
    (defined(__GNUC__) || defined(__clang__))
#define CONCGUARD_POPCNT_DISPATCH 1
inline bool cpu_has_popcnt() noexcept {
  return __builtin_cpu_supports("popcnt");
}
#else
#define CONCGUARD_POPCNT_DISPATCH 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CONCGUARD_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define CONCGUARD_ALWAYS_INLINE inline
#endif

/// Population count by the compiler's builtin: one instruction where the
/// function it is inlined into may use it (see CONCGUARD_POPCNT_DISPATCH).
struct builtin_popcount {
  unsigned operator()(std::uint32_t x) const noexcept {
    return static_cast<unsigned>(__builtin_popcount(x));
  }
  unsigned operator()(std::uint64_t x) const noexcept {
    return static_cast<unsigned>(__builtin_popcountll(x));
  }
};

/// Population count that needs no CPU feature (popcount32).
struct portable_popcount {
  unsigned operator()(std::uint32_t x) const noexcept { return popcount32(x); }
  unsigned operator()(std::uint64_t x) const noexcept { return popcount64(x); }
};

} // namespace detail

/// An unordered map with O(1) copies that share structure, O(log64 n) lookup,
/// insertion and erasure (each change copies only the nodes that a copy
/// shares, along the path to one entry), and nodes freed when the last copy
/// that uses them is gone (atomic reference counts, so copies may be used and
/// destroyed on different threads; one object is not itself thread-safe).
///
/// The interface is the part of std::unordered_map a batch usually needs:
/// find, count, contains, at, operator[], insert, emplace, try_emplace,
/// insert_or_assign, erase(key), clear, size, empty, iteration.
/// Differences from std::unordered_map:
/// - a non-const access (non-const find/begin, operator[], try_emplace, ...)
///   first copies the nodes on its path that another copy shares, so that
///   the other copies never see the change; use the const overloads (or
///   std::as_const) to only read;
/// - every insertion or erasure invalidates iterators and references into
///   this object (as in absl::flat_hash_map); values of types that are not
///   trivially copyable are boxed and keep their address while the object
///   is changed only through this one copy;
/// - no buckets, no erase(iterator), iteration order is the hash order.
template <class K, class V, class Hash = std::hash<K>,
          class KeyEqual = std::equal_to<K>>
class persistent_map {
public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using size_type = std::size_t;
  using hasher = Hash;
  using key_equal = KeyEqual;

private:
  /// Hash bits per level: 64-way nodes. With 32-way nodes a lookup in a map
  /// of 1M random keys visits 4.6 nodes on average, the third level being
  /// 9 MiB and the fourth 18 MiB; with 64-way nodes it visits 4.0, the third
  /// level is 2 MiB and the fourth holds ~4 entries per node. Measured in one
  /// process, alternating with the 32-way trie: 0.79-0.81x the lookup time
  /// and 0.71-0.87x the write time with 1M keys, 0.9x and 1.0-1.2x with 10k
  /// (noisy); callgrind: 4469 -> 4113 instructions per write with 1M keys,
  /// 38 -> 42 atomic read-modify-writes with 10k (a re-base counts 64).
  static constexpr unsigned bits_per_level = 6;
  /// One bit per position of a node (5 bits per level fit 32-bit maps).
  using bitmap =
      std::conditional_t<(bits_per_level > 5), std::uint64_t, std::uint32_t>;
  static constexpr unsigned level_mask = (1u << bits_per_level) - 1;
  static constexpr unsigned hash_bits = 64;
  /// Levels that consume hash bits (0, 6, ..., 60), plus the collision level.
  static constexpr unsigned max_depth =
      (hash_bits + bits_per_level - 1) / bits_per_level + 1;

  /// Small trivially copyable entries live in the nodes; others are boxed so
  /// that copying a node on a write copies pointers, not values.
  static constexpr bool inline_entries = std::is_trivially_copyable_v<K> &&
                                         std::is_trivially_copyable_v<V> &&
                                         sizeof(value_type) <= 32;

  struct box {
    template <class... A>
    explicit box(A &&...args) : kv(std::forward<A>(args)...) {}
    std::atomic<std::uint32_t> refs{1};
    value_type kv;
  };

  using slot = std::conditional_t<inline_entries, value_type, box *>;

  /// A trie node. A copy of a node made on a write may *borrow* the
  /// children and boxes it shares with the node it was copied from instead
  /// of counting each of them: it holds one reference to that node (its
  /// `base`), and counts only what it changed since (`owned`). A write then
  /// costs a few reference-count updates per copied node instead of one per
  /// child (up to 64), and so does freeing the version it replaced.
  /// Invariants of a bitmap node `n` with a base:
  /// - `n` holds one reference to `n->base`, which has no base itself (so
  ///   borrowing never chains);
  /// - at every position (a bit of datamap|nodemap) not in `owned`, `n` holds
  ///   the same child pointer, or the same box, as `n->base` at that
  ///   position; `n->base` counts it, `n` does not, and `n` never changes it
  ///   in place (a write through it copies it first, and the copy is counted);
  /// - a copy of a borrower that counts more than `max_owned` positions
  ///   counts everything itself (re-bases), which bounds what a base keeps
  ///   alive that its borrowers no longer use.
  /// Collision nodes and small nodes never borrow.
  struct node {
    std::atomic<std::uint32_t> refs{1};
    std::uint32_t count = 0; // collision nodes only: number of entries
    bitmap datamap = 0;      // bit set: that 64th holds one entry
    bitmap nodemap = 0;      // bit set: that 64th holds a child node
    bitmap owned = 0;        // with a base: the positions this node counts
    node *base = nullptr;    // the node the others are borrowed from
  };

  /// A node that counts at most this many children and boxes is copied
  /// whole: borrowing would save little.
  static constexpr unsigned borrow_min = 8;
  /// A borrower counting more positions than this is copied whole: a run of
  /// writes costs about k/2 count updates per write to carry k owned
  /// positions forward plus 64/k per write to re-base, flat between 8 and
  /// 11 for 64-way nodes (8 was chosen for 32-way ones).
  static constexpr unsigned max_owned = 8;

  //===-- Node memory ----------------------------------------------------===//

  static constexpr std::size_t round_up(std::size_t n, std::size_t a) {
    return (n + a - 1) / a * a;
  }
  static constexpr std::size_t slots_offset =
      round_up(sizeof(node), alignof(slot));
  static constexpr std::size_t node_alignment = alignof(slot) > alignof(node)
                                                    ? alignof(slot)
                                                    : alignof(node);

  static std::size_t children_offset(unsigned entries) noexcept {
    return round_up(slots_offset + entries * sizeof(slot), alignof(node *));
  }

  /// Allocates a node with room for `entries` slots and `children` child
  /// pointers; neither is constructed.
  static node *allocate(unsigned entries, unsigned children) {
    const std::size_t bytes =
        children_offset(entries) + children * sizeof(node *);
    void *raw;
    if constexpr (node_alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      raw = ::operator new(bytes, std::align_val_t(node_alignment));
    else
      raw = ::operator new(bytes);
    return new (raw) node;
  }

  static void deallocate(node *n) noexcept {
    n->~node();
    if constexpr (node_alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
      ::operator delete(static_cast<void *>(n),
                        std::align_val_t(node_alignment));
    else
      ::operator delete(static_cast<void *>(n));
  }

  static bool is_collision(unsigned shift) noexcept {
    return shift >= hash_bits;
  }
  static unsigned entry_count(const node *n, unsigned shift) noexcept {
    return is_collision(shift) ? n->count : detail::popcount(n->datamap);
  }
  static unsigned child_count(const node *n) noexcept {
    return detail::popcount(n->nodemap);
  }
  static slot *slot_array(node *n) noexcept {
    return reinterpret_cast<slot *>(reinterpret_cast<char *>(n) + slots_offset);
  }
  static const slot *slot_array(const node *n) noexcept {
    return reinterpret_cast<const slot *>(reinterpret_cast<const char *>(n) +
                                          slots_offset);
  }
  static node **children(node *n, unsigned entries) noexcept {
    return reinterpret_cast<node **>(reinterpret_cast<char *>(n) +
                                     children_offset(entries));
  }
  static node *const *children(const node *n, unsigned entries) noexcept {
    return reinterpret_cast<node *const *>(reinterpret_cast<const char *>(n) +
                                           children_offset(entries));
  }
  static unsigned index_of(bitmap map, bitmap bit) noexcept {
    return detail::popcount(map & (bit - 1));
  }
  static bitmap bit_of(std::uint64_t hash, unsigned shift) noexcept {
    return bitmap(1) << ((hash >> shift) & level_mask);
  }

  //===-- Slots ----------------------------------------------------------===//

  static const value_type &entry(const slot &s) noexcept {
    if constexpr (inline_entries)
      return s;
    else
      return s->kv;
  }

  /// Copy-constructs a slot sharing `from` (a box gains a reference).
  static void share_slot(slot *to, const slot &from) noexcept {
    if constexpr (inline_entries) {
      static_assert(std::is_nothrow_copy_constructible_v<value_type>);
      new (to) value_type(from);
    } else {
      from->refs.fetch_add(1, std::memory_order_relaxed);
      new (to) slot(from);
    }
  }

  /// Moves a slot (its reference, for a box) to `to`; destroys `from`.
  static void move_slot(slot *to, slot &from) noexcept {
    if constexpr (inline_entries) {
      new (to) value_type(from); // trivially copyable: a copy is a move
      from.~value_type();
    } else {
      new (to) slot(from);
    }
  }

  static void destroy_slot(slot &s) noexcept {
    if constexpr (inline_entries) {
      s.~value_type();
    } else if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete s;
    }
  }

  /// Constructs a new slot at `to` holding value_type(args...).
  template <class... A> static void make_slot(slot *to, A &&...args) {
    if constexpr (inline_entries)
      new (to) value_type(std::forward<A>(args)...);
    else
      new (to) slot(new box(std::forward<A>(args)...));
  }

  //===-- Reference counting ----------------------------------------------===//

  static void retain(node *n) noexcept {
    if (n != nullptr)
      n->refs.fetch_add(1, std::memory_order_relaxed);
  }

  /// Whether the bitmap node `n` counts (rather than borrows) the child or
  /// box at position `bit`. Nodes without a base count everything.
  static bool counts(const node *n, bitmap bit) noexcept {
    return n->base == nullptr || (n->owned & bit) != 0;
  }

  /// Records that `n` (owned by this map) now counts position `bit`.
  static void mark_counted(node *n, bitmap bit) noexcept {
    if (n->base != nullptr)
      n->owned |= bit;
  }

  /// Positions of `n` whose content carries a reference count.
  static bitmap counted_kinds(const node *n) noexcept {
    return inline_entries ? n->nodemap : (n->datamap | n->nodemap);
  }

  /// Drops one reference to `n` (at depth `shift`); frees it and releases
  /// what it counts when it was the last.
  static void release(node *n, unsigned shift) noexcept {
    if (n == nullptr || n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
      return;
    const unsigned entries = entry_count(n, shift);
    slot *s = slot_array(n);
    if (is_collision(shift) || n->base == nullptr) {
      for (unsigned i = 0; i < entries; ++i)
        destroy_slot(s[i]);
      if (!is_collision(shift)) {
        node **c = children(n, entries);
        const unsigned nc = child_count(n);
        for (unsigned i = 0; i < nc; ++i)
          release(c[i], shift + bits_per_level);
      }
      deallocate(n);
      return;
    }
    // A borrower: only the positions it counts (a few) hold references.
    if constexpr (inline_entries) {
      for (unsigned i = 0; i < entries; ++i)
        destroy_slot(s[i]);
    } else {
      for (bitmap map = n->owned & n->datamap; map != 0; map &= map - 1)
        destroy_slot(s[index_of(n->datamap, map & (~map + 1))]);
    }
    node **c = children(n, entries);
    for (bitmap map = n->owned & n->nodemap; map != 0; map &= map - 1)
      release(c[index_of(n->nodemap, map & (~map + 1))],
              shift + bits_per_level);
    discard(n, shift);
  }

  /// Frees the memory of `n` (unique, what it counted moved out or
  /// released) and releases its base.
  static void discard(node *n, unsigned shift) noexcept {
    node *base = n->base;
    deallocate(n);
    release(base, shift);
  }

  /// Destroys the slot at position `bit` of bitmap node `n`, unless `n` only
  /// borrows its box.
  static void drop_slot(const node *n, bitmap bit, slot &s) noexcept {
    if (inline_entries || counts(n, bit))
      destroy_slot(s);
  }

  /// Copies a slot without counting it (the box stays the base's).
  static void borrow_slot(slot *to, const slot &from) noexcept {
    if constexpr (inline_entries)
      new (to) value_type(from);
    else
      new (to) slot(from);
  }

  /// Only holder of `n`? The acquire pairs with the release decrement of the
  /// holder that let go last, so its reads of the node happen before our
  /// writes. Nobody can add a reference meanwhile: they would need a pointer
  /// to `n` from a node or map that holds it, and only we do (a node that
  /// borrows from `n` holds a reference to it too).
  static bool is_unique(const node *n) noexcept {
    return n->refs.load(std::memory_order_acquire) == 1;
  }

  /// A copy of `n` (not yet referenced). It borrows what it shares with `n`
  /// when `n` is big enough and does not already count too much itself;
  /// otherwise it counts every child and box.
  static node *clone(const node *n, unsigned shift) {
    const unsigned entries = entry_count(n, shift);
    const unsigned nc = is_collision(shift) ? 0 : child_count(n);
    node *c = allocate(entries, nc);
    c->datamap = n->datamap;
    c->nodemap = n->nodemap;
    c->count = n->count;
    if (!is_collision(shift) &&
        nc + (inline_entries ? 0 : entries) > borrow_min) {
      if (n->base == nullptr) {
        c->base = const_cast<node *>(n);
      } else if (detail::popcount(n->owned & counted_kinds(n)) <= max_owned) {
        c->base = n->base;
        c->owned = n->owned;
      }
      retain(c->base);
    }
    // Copy every slot and child pointer, then count what `c` counts.
    for (unsigned i = 0; i < entries; ++i)
      borrow_slot(&slot_array(c)[i], slot_array(n)[i]);
    node *const *from = children(n, entries);
    node **to = children(c, entries);
    for (unsigned i = 0; i < nc; ++i)
      to[i] = from[i];
    if (c->base == nullptr) {
      if constexpr (!inline_entries)
        for (unsigned i = 0; i < entries; ++i)
          slot_array(c)[i]->refs.fetch_add(1, std::memory_order_relaxed);
      for (unsigned i = 0; i < nc; ++i)
        retain(to[i]);
      return c;
    }
    if constexpr (!inline_entries)
      for (bitmap map = c->owned & c->datamap; map != 0; map &= map - 1)
        slot_array(c)[index_of(c->datamap, map & (~map + 1))]->refs.fetch_add(
            1, std::memory_order_relaxed);
    for (bitmap map = c->owned & c->nodemap; map != 0; map &= map - 1)
      retain(to[index_of(c->nodemap, map & (~map + 1))]);
    return c;
  }

  /// Makes `ref`, a node at depth `shift`, unique to this map, copying it if
  /// another map shares it or if `parent` only borrows it. `parent` (owned by
  /// this map) holds `ref` at position `bit`; null for the root, which the
  /// map always counts. A copy is counted by `parent`.
  static node *own(node *&ref, unsigned shift, node *parent, bitmap bit) {
    const bool counted = parent == nullptr || counts(parent, bit);
    if (counted && is_unique(ref))
      return ref;
    node *c = clone(ref, shift);
    node *old = ref;
    ref = c;
    if (parent != nullptr)
      mark_counted(parent, bit);
    if (counted)
      release(old, shift);
    return c;
  }

  /// Makes the box of `s`, at position `bit` of `n` (owned by this map; any
  /// `bit` for a collision node), unique to this map.
  static value_type &own_entry(slot &s, node *n, bitmap bit) {
    if constexpr (inline_entries) {
      (void)n;
      (void)bit;
      return s;
    } else {
      const bool counted = counts(n, bit);
      if (!counted || s->refs.load(std::memory_order_acquire) != 1) {
        box *copy = new box(s->kv);
        box *old = s;
        s = copy;
        mark_counted(n, bit);
        if (counted && old->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
          delete old;
      }
      return s->kv;
    }
  }

  /// Drops the base of `n` (owned by this map) once `n` counts every
  /// position, so that the base can be freed.
  static void drop_unused_base(node *n, unsigned shift) noexcept {
    if (n->base == nullptr || (n->owned & counted_kinds(n)) != counted_kinds(n))
      return;
    node *base = n->base;
    n->base = nullptr;
    n->owned = 0;
    release(base, shift);
  }

  //===-- Root index -----------------------------------------------------===//

  /// A big map's lookups start below the two top levels: the root index
  /// maps the hash's low `index_bits` bits straight to the node the path
  /// reaches at depth 2 (or at depth 1 where that level holds no child).
  /// It is the wide first level of the trie, kept beside it rather than
  /// in it: the trie stays canonical and its nodes keep their own counts,
  /// and the index holds no references (it points into the nodes of the
  /// map it belongs to, which outlive it). Copies share it; the first write
  /// to a copy copies it (32 KiB), and every write re-points the 64 entries
  /// under the root position it changed. Measured with 1M keys against the
  /// same trie without it (test/bench/runtime/trie_ab.cpp, alternating):
  /// 0.80-0.86x the lookup time, 1.04-1.43x the time of a snapshot_map write
  /// (the 32 KiB copy); cachegrind: 180 -> 150 instructions and 6.4 -> 6.0
  /// first-level cache misses per lookup, last-level misses unchanged (2.6:
  /// the two levels it skips are small enough to stay cached).
  static constexpr unsigned index_bits = 2 * bits_per_level;
  static constexpr std::size_t index_size = std::size_t(1) << index_bits;
  /// A map keeps an index from this many entries on (its two top levels
  /// are full from about 2^14: 256 keys per second-level node) and drops it
  /// below half of it; smaller maps' top levels stay in cache anyway.
  static constexpr size_type index_min_size = size_type(1) << 15;

  struct root_index {
    std::atomic<std::uint32_t> refs{1};
    /// Per value of the hash's low `index_bits` bits (at index_position):
    /// the node at depth 2, or the node at depth 1 with the low bit set.
    std::uintptr_t at[index_size];
  };

  /// A new index, or null without memory for one. (Plain `new` in a try,
  /// not the nothrow form: a program that replaces operator new(size_t)
  /// alone, as tests do, must get the pair it frees with.)
  static root_index *new_index() noexcept {
    try {
      return new root_index;
    } catch (...) {
      return nullptr;
    }
  }

  void drop_index() noexcept {
    if (index_ != nullptr &&
        index_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete index_;
    index_ = nullptr;
  }

  /// Whether the index can describe the trie: the root holds 64 children
  /// (so every entry is at depth 1 or 2) and the map is big enough.
  bool index_fits() const noexcept {
    return root_ != nullptr && size_ >= index_min_size / 2 &&
           root_->datamap == 0 && root_->nodemap == ~bitmap(0);
  }

  /// The index position of hash `h`: the entries under one root position
  /// are contiguous, so that a write re-points 512 bytes, not 64 lines.
  static std::size_t index_position(std::uint64_t h) noexcept {
    return std::size_t((h & level_mask) << bits_per_level |
                       ((h >> bits_per_level) & level_mask));
  }

  /// Points the 64 entries under root position `p` at their nodes.
  void fill_index(std::uint64_t p) noexcept {
    const node *mid = children(root_, 0)[p];
    node *const *kids = children(mid, detail::popcount(mid->datamap));
    std::uintptr_t *to = &index_->at[p << bits_per_level];
    const bitmap nodemap = mid->nodemap;
    for (unsigned q = 0; q <= level_mask; ++q)
      to[q] = (nodemap >> q) & 1 ? reinterpret_cast<std::uintptr_t>(*kids++)
                                 : reinterpret_cast<std::uintptr_t>(mid) | 1;
  }

  /// Brings the index up to date after a change on the path of hash `h`
  /// (or anywhere, after a change that dropped it): builds it when the map
  /// has grown to need one, drops it when it no longer fits, and otherwise
  /// re-points the entries under the root position of `h`, first copying
  /// the index if another map shares it. Never throws: without memory for
  /// an index the map simply does without.
  void refresh_index(std::uint64_t h) noexcept {
    if (!index_fits()) {
      drop_index();
      return;
    }
    if (index_ == nullptr) {
      if (size_ < index_min_size)
        return;
      index_ = new_index();
      if (index_ == nullptr)
        return;
      for (std::uint64_t p = 0; p <= level_mask; ++p)
        fill_index(p);
      return;
    }
    if (index_->refs.load(std::memory_order_acquire) != 1) {
      root_index *copy = new_index();
      if (copy == nullptr) {
        drop_index();
        return;
      }
      std::copy(std::begin(index_->at), std::end(index_->at),
                std::begin(copy->at));
      drop_index();
      index_ = copy;
    }
    fill_index(h & level_mask);
  }

  /// Refreshes the index when a write on the path of `h` ends, normally or
  /// by an exception (a copied node may have replaced an indexed one even
  /// when the write then failed).
  struct index_refresher {
    persistent_map &map;
    std::uint64_t h;
    index_refresher(persistent_map &m, std::uint64_t hash) : map(m), h(hash) {}
    index_refresher(const index_refresher &) = delete;
    index_refresher &operator=(const index_refresher &) = delete;
    ~index_refresher() { map.refresh_index(h); }
  };

public:
  //===-- Iteration ------------------------------------------------------===//

  template <bool Const> class basic_iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = persistent_map::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const value_type *, value_type *>;
    using reference =
        std::conditional_t<Const, const value_type &, value_type &>;

    basic_iterator() = default;
    /// A mutable iterator converts to a const one.
    template <bool C = Const, class = std::enable_if_t<C>>
    basic_iterator(const basic_iterator<false> &other) // NOLINT: implicit
        : depth_(other.depth_), current_(other.current_) {
      for (unsigned i = 0; i < depth_; ++i)
        stack_[i] = other.stack_[i];
    }

    reference operator*() const { return *get(); }
    pointer operator->() const { return get(); }
    basic_iterator &operator++() {
      advance();
      return *this;
    }
    basic_iterator operator++(int) {
      basic_iterator old = *this;
      advance();
      return old;
    }
    friend bool operator==(const basic_iterator &a, const basic_iterator &b) {
      return a.current_ == b.current_;
    }
    friend bool operator!=(const basic_iterator &a, const basic_iterator &b) {
      return a.current_ != b.current_;
    }

  private:
    friend class persistent_map;
    template <bool> friend class basic_iterator;

    struct frame {
      const node *n;
      unsigned pos; // next entry, then next child (entries + i)
    };

    pointer get() const {
      // Mutable iterators exist only over nodes this map owns alone.
      return const_cast<pointer>(current_);
    }

    void push(const node *n, unsigned pos) { stack_[depth_++] = frame{n, pos}; }

    void advance() {
      current_ = nullptr;
      while (depth_ != 0) {
        frame &f = stack_[depth_ - 1];
        const unsigned shift = (depth_ - 1) * bits_per_level;
        const unsigned entries = entry_count(f.n, shift);
        if (f.pos < entries) {
          current_ = &entry(slot_array(f.n)[f.pos++]);
          return;
        }
        const unsigned nc = is_collision(shift) ? 0 : child_count(f.n);
        if (f.pos < entries + nc) {
          const node *child = children(f.n, entries)[f.pos - entries];
          ++f.pos;
          push(child, 0);
          continue;
        }
        --depth_;
      }
    }

    frame stack_[max_depth + 1];
    unsigned depth_ = 0;
    const value_type *current_ = nullptr;
  };

  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  //===-- Construction ---------------------------------------------------===//

  persistent_map() = default;
  explicit persistent_map(const Hash &hash, const KeyEqual &eq = KeyEqual())
      : hash_(hash), eq_(eq) {}
  persistent_map(std::initializer_list<value_type> init) {
    for (const value_type &kv : init)
      insert(kv);
  }
  template <class It> persistent_map(It first, It last) {
    for (; first != last; ++first)
      insert(*first);
  }

  /// O(1): shares every node with `other`.
  persistent_map(const persistent_map &other)
      : root_(other.root_), index_(other.index_), size_(other.size_),
        hash_(other.hash_), eq_(other.eq_) {
    retain(root_);
    if (index_ != nullptr)
      index_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  persistent_map(persistent_map &&other) noexcept
      : root_(other.root_), index_(other.index_), size_(other.size_),
        hash_(other.hash_), eq_(other.eq_) {
    other.root_ = nullptr;
    other.index_ = nullptr;
    other.size_ = 0;
  }
  persistent_map &operator=(const persistent_map &other) {
    persistent_map copy(other);
    swap(copy);
    return *this;
  }
  persistent_map &operator=(persistent_map &&other) noexcept {
    persistent_map moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~persistent_map() {
    drop_index();
    release(root_, 0);
  }

  void swap(persistent_map &other) noexcept {
    using std::swap;
    swap(root_, other.root_);
    swap(index_, other.index_);
    swap(size_, other.size_);
    swap(hash_, other.hash_);
    swap(eq_, other.eq_);
  }
  friend void swap(persistent_map &a, persistent_map &b) noexcept { a.swap(b); }

  //===-- Reads ----------------------------------------------------------===//

  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// Whether lookups start from the root index (maps of about 2^15 entries
  /// and more; introspection for tests and benchmarks).
  bool indexed() const noexcept { return index_ != nullptr; }
  hasher hash_function() const { return hash_; }
  key_equal key_eq() const { return eq_; }

  const_iterator begin() const {
    const_iterator it;
    if (root_ != nullptr) {
      it.push(root_, 0);
      it.advance();
    }
    return it;
  }
  const_iterator end() const noexcept { return const_iterator(); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  /// Makes every node and entry unique to this map (O(n) if it shares them),
  /// then iterates with mutable values.
  iterator begin() {
    drop_index(); // every node on every path may be copied
    own_all(root_, 0, nullptr, 0);
    refresh_index(0);
    iterator it;
    if (root_ != nullptr) {
      it.push(root_, 0);
      it.advance();
    }
    return it;
  }
  iterator end() noexcept { return iterator(); }

  const_iterator find(const K &key) const {
    const_iterator it;
    locate(key, hash_of(key), &it);
    return it;
  }

  /// Makes the path to `key` unique to this map; the value may be changed
  /// through the iterator.
  iterator find(const K &key) {
    const std::uint64_t h = hash_of(key);
    if (lookup(key, h) == nullptr)
      return end();
    own_path(key, h);
    iterator it;
    locate(key, h, &it);
    return it;
  }

  /// The entry for `key`, or nullptr; no iterator is built.
  const value_type *find_entry(const K &key) const {
    return lookup(key, hash_of(key));
  }

  /// find_entry by another type than K, when Hash and KeyEqual are both
  /// transparent (declare `is_transparent`) and accept it.
  template <
      class Q,
      std::enable_if_t<detail::transparent_lookup<Hash, KeyEqual, Q>, int> = 0>
  const value_type *find_entry(const Q &key) const {
    return lookup(key, hash_of(key));
  }

  bool contains(const K &key) const { return find_entry(key) != nullptr; }
  size_type count(const K &key) const { return contains(key) ? 1 : 0; }

  const V &at(const K &key) const {
    const value_type *kv = find_entry(key);
    if (kv == nullptr)
      throw std::out_of_range("concguard::persistent_map::at: key not found");
    return kv->second;
  }
  V &at(const K &key) {
    const std::uint64_t h = hash_of(key);
    if (lookup(key, h) == nullptr)
      throw std::out_of_range("concguard::persistent_map::at: key not found");
    return own_path(key, h)->second;
  }

  //===-- Writes ---------------------------------------------------------===//

  template <class... A>
  std::pair<iterator, bool> try_emplace(const K &key, A &&...args) {
    return try_emplace_impl(key, std::forward<A>(args)...);
  }
  template <class... A>
  std::pair<iterator, bool> try_emplace(K &&key, A &&...args) {
    return try_emplace_impl(std::move(key), std::forward<A>(args)...);
  }

  std::pair<iterator, bool> insert(const value_type &kv) {
    return try_emplace_impl(kv.first, kv.second);
  }
  std::pair<iterator, bool> insert(value_type &&kv) {
    return try_emplace_impl(kv.first, std::move(kv.second));
  }
  template <class... A> std::pair<iterator, bool> emplace(A &&...args) {
    value_type kv(std::forward<A>(args)...);
    return try_emplace_impl(kv.first, std::move(kv.second));
  }

  template <class M>
  std::pair<iterator, bool> insert_or_assign(const K &key, M &&value) {
    return insert_or_assign_impl(key, std::forward<M>(value));
  }
  template <class M>
  std::pair<iterator, bool> insert_or_assign(K &&key, M &&value) {
    return insert_or_assign_impl(std::move(key), std::forward<M>(value));
  }

  V &operator[](const K &key) { return try_emplace(key).first->second; }
  V &operator[](K &&key) { return try_emplace(std::move(key)).first->second; }

  /// Removes `key`; returns 0 or 1.
  size_type erase(const K &key) {
    const std::uint64_t h = hash_of(key);
    if (lookup(key, h) == nullptr)
      return 0;
    {
      const index_refresher refresh(*this, h);
      erase_at(root_, 0, h, key, nullptr, 0);
      --size_;
    }
    return 1;
  }

  void clear() noexcept {
    drop_index();
    release(root_, 0);
    root_ = nullptr;
    size_ = 0;
  }

private:
  template <class Q> std::uint64_t hash_of(const Q &key) const {
    return detail::mix_hash(static_cast<std::uint64_t>(hash_(key)));
  }

  /// Bytes of a node the lookup asks the CPU to fetch as soon as it has
  /// the node's address: its header and most of its arrays (a full node is
  /// up to 550 bytes with 32-way nodes, 1 KiB with 64-way ones), fetched in
  /// parallel instead of the header first and then the line that holds the
  /// needed slot. Measured with 1M keys and 32-way nodes: about 10% faster,
  /// 256 better than 64, 128, 384 or 576 bytes; in cache it costs a few
  /// instructions per level. (Children before entries, with a prefetch of
  /// the line of the child at the hash's position, measured the same.)
  static constexpr unsigned prefetch_bytes = 256;

  static void prefetch_node(const node *n) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    const char *p = reinterpret_cast<const char *>(n);
    for (std::size_t off = 0; off < prefetch_bytes;
         off += detail::cache_line_size)
      __builtin_prefetch(p + off);
#else
    (void)n;
#endif
  }

  /// The entry for `key` (hash `h`), or nullptr: the read-only lookup,
  /// counting bitmap bits with `pop`. Each level reads the node's two
  /// bitmaps and one child pointer (or, at the end, one entry).
  template <class Q, class Pop>
  CONCGUARD_ALWAYS_INLINE const value_type *
  lookup_with(const Q &key, std::uint64_t h, Pop pop) const {
    const node *n = root_;
    if (n == nullptr)
      return nullptr;
    unsigned shift = 0;
    if (index_ != nullptr) { // skip the two top levels
      const std::uintptr_t e = index_->at[index_position(h)];
      n = reinterpret_cast<const node *>(e & ~std::uintptr_t(1));
      shift = (e & 1) != 0 ? bits_per_level : index_bits;
      prefetch_node(n);
    }
    for (; !is_collision(shift); shift += bits_per_level) {
      const bitmap bit = bit_of(h, shift);
      const bitmap datamap = n->datamap;
      if (datamap & bit) {
        const value_type &kv = entry(slot_array(n)[pop(datamap & (bit - 1))]);
        return eq_(kv.first, key) ? &kv : nullptr;
      }
      const bitmap nodemap = n->nodemap;
      if (!(nodemap & bit))
        return nullptr;
      n = children(n, pop(datamap))[pop(nodemap & (bit - 1))];
      prefetch_node(n);
    }
    for (unsigned i = 0; i < n->count; ++i) {
      const value_type &kv = entry(slot_array(n)[i]);
      if (eq_(kv.first, key))
        return &kv;
    }
    return nullptr;
  }

#if CONCGUARD_POPCNT_DISPATCH
  template <class Q>
  __attribute__((target("popcnt")))
  const value_type *lookup_popcnt(const Q &key, std::uint64_t h) const {
    return lookup_with(key, h, detail::builtin_popcount());
  }
#endif

  template <class Q>
  const value_type *lookup(const Q &key, std::uint64_t h) const {
#if CONCGUARD_POPCNT_DISPATCH
    if (detail::cpu_has_popcnt())
      return lookup_popcnt(key, h);
#endif
    return lookup_with(key, h, detail::portable_popcount());
  }

  /// The entry for `key` (hash `h`), or nullptr. With `it`, also builds an
  /// iterator positioned on it (left at end when absent).
  template <class It, class Q>
  const value_type *locate(const Q &key, std::uint64_t h, It *it) const {
    const node *n = root_;
    if (n == nullptr)
      return nullptr;
    for (unsigned shift = 0;; shift += bits_per_level) {
      if (is_collision(shift)) {
        for (unsigned i = 0; i < n->count; ++i) {
          const value_type &kv = entry(slot_array(n)[i]);
          if (eq_(kv.first, key)) {
            if (it != nullptr) {
              it->push(n, i + 1);
              it->current_ = &kv;
            }
            return &kv;
          }
        }
        break;
      }
      const bitmap bit = bit_of(h, shift);
      if (n->datamap & bit) {
        const unsigned i = index_of(n->datamap, bit);
        const value_type &kv = entry(slot_array(n)[i]);
        if (!eq_(kv.first, key))
          break;
        if (it != nullptr) {
          it->push(n, i + 1);
          it->current_ = &kv;
        }
        return &kv;
      }
      if (!(n->nodemap & bit))
        break;
      const unsigned entries = detail::popcount(n->datamap);
      const unsigned ci = index_of(n->nodemap, bit);
      if (it != nullptr)
        it->push(n, entries + ci + 1);
      n = children(n, entries)[ci];
    }
    if (it != nullptr)
      *it = It();
    return nullptr;
  }
  /// Makes every node on the path to `key` (present) and its entry unique to
  /// this map; returns the entry.
  value_type *own_path(const K &key, std::uint64_t h) {
    const index_refresher refresh(*this, h);
    node **ref = &root_;
    node *parent = nullptr;
    bitmap parent_bit = 0;
    for (unsigned shift = 0;; shift += bits_per_level) {
      node *n = own(*ref, shift, parent, parent_bit);
      if (is_collision(shift)) {
        for (unsigned i = 0; i < n->count; ++i)
          if (eq_(entry(slot_array(n)[i]).first, key))
            return &own_entry(slot_array(n)[i], n, 0);
        return nullptr; // not reached: the caller checked presence
      }
      const bitmap bit = bit_of(h, shift);
      if (n->datamap & bit)
        return &own_entry(slot_array(n)[index_of(n->datamap, bit)], n, bit);
      ref =
          &children(n, detail::popcount(n->datamap))[index_of(n->nodemap, bit)];
      parent = n;
      parent_bit = bit;
    }
  }

  static void own_all(node *&ref, unsigned shift, node *parent,
                      bitmap parent_bit) {
    if (ref == nullptr)
      return;
    node *n = own(ref, shift, parent, parent_bit);
    const unsigned entries = entry_count(n, shift);
    if (is_collision(shift)) {
      for (unsigned i = 0; i < entries; ++i)
        own_entry(slot_array(n)[i], n, 0);
      return;
    }
    unsigned i = 0;
    for (bitmap map = n->datamap; map != 0; map &= map - 1, ++i)
      own_entry(slot_array(n)[i], n, map & (~map + 1));
    i = 0;
    for (bitmap map = n->nodemap; map != 0; map &= map - 1, ++i)
      own_all(children(n, entries)[i], shift + bits_per_level, n,
              map & (~map + 1));
    drop_unused_base(n, shift); // everything is counted here now
  }

  template <class KeyArg, class... A>
  std::pair<iterator, bool> try_emplace_impl(KeyArg &&key, A &&...args) {
    const std::uint64_t h = hash_of(key);
    if (lookup(key, h) != nullptr) {
      own_path(key, h);
      iterator it;
      locate(key, h, &it);
      return {it, false};
    }
    insert_new(h, std::piecewise_construct,
               std::forward_as_tuple(std::forward<KeyArg>(key)),
               std::forward_as_tuple(std::forward<A>(args)...));
    iterator it;
    locate(key_of_last(), h, &it);
    return {it, true};
  }

  template <class KeyArg, class M>
  std::pair<iterator, bool> insert_or_assign_impl(KeyArg &&key, M &&value) {
    const std::uint64_t h = hash_of(key);
    if (lookup(key, h) != nullptr) {
      own_path(key, h)->second = std::forward<M>(value);
      iterator it;
      locate(key, h, &it);
      return {it, false};
    }
    insert_new(h, std::forward<KeyArg>(key), std::forward<M>(value));
    iterator it;
    locate(key_of_last(), h, &it);
    return {it, true};
  }

  /// The key of the entry insert_new() added last (the key argument may
  /// have been moved from).
  const K &key_of_last() const noexcept { return last_inserted_->first; }

  /// Inserts a new entry value_type(args...) for an absent key of hash `h`.
  template <class... A> void insert_new(std::uint64_t h, A &&...args) {
    // Build the entry first: if its constructor throws, nothing changed.
    alignas(slot) unsigned char storage[sizeof(slot)];
    slot *fresh = reinterpret_cast<slot *>(storage);
    make_slot(fresh, std::forward<A>(args)...);
    const index_refresher refresh(*this, h);
    try {
      insert_at(root_, 0, h, *fresh, nullptr, 0);
    } catch (...) {
      destroy_slot(*fresh);
      throw;
    }
    ++size_;
  }

  /// Inserts the slot `fresh` (its key absent, hash `h`) below `ref`, a node
  /// at depth `shift` held by this map (or null at the root). On success
  /// `fresh` has been moved into the trie; on an exception (allocation) the
  /// trie is unchanged in content and `fresh` is still the caller's.
  /// `parent` holds `ref` at position `parent_bit` (null for the root).
  void insert_at(node *&ref, unsigned shift, std::uint64_t h, slot &fresh,
                 node *parent, bitmap parent_bit) {
    if (ref == nullptr) { // empty map
      node *n = allocate(1, 0);
      n->datamap = bit_of(h, 0);
      move_slot(&slot_array(n)[0], fresh);
      last_inserted_ = &entry(slot_array(n)[0]);
      ref = n;
      return;
    }
    node *n = own(ref, shift, parent, parent_bit);
    if (is_collision(shift)) {
      const unsigned entries = n->count;
      node *grown = allocate(entries + 1, 0);
      grown->count = entries + 1;
      for (unsigned i = 0; i < entries; ++i)
        move_slot(&slot_array(grown)[i], slot_array(n)[i]);
      move_slot(&slot_array(grown)[entries], fresh);
      last_inserted_ = &entry(slot_array(grown)[entries]);
      replace(ref, n, grown);
      return;
    }
    const bitmap bit = bit_of(h, shift);
    const unsigned entries = detail::popcount(n->datamap);
    const unsigned nc = child_count(n);
    if (n->nodemap & bit) {
      insert_at(children(n, entries)[index_of(n->nodemap, bit)],
                shift + bits_per_level, h, fresh, n, bit);
      return;
    }
    if (!(n->datamap & bit)) { // a free 64th: add the entry here
      const unsigned at = index_of(n->datamap, bit);
      node *grown = allocate(entries + 1, nc);
      grown->datamap = n->datamap | bit;
      grown->nodemap = n->nodemap;
      hand_over_base(grown, n);
      mark_counted(grown, bit);
      for (unsigned i = 0, j = 0; i <= entries; ++i) {
        if (i == at)
          move_slot(&slot_array(grown)[i], fresh);
        else
          move_slot(&slot_array(grown)[i], slot_array(n)[j++]);
      }
      last_inserted_ = &entry(slot_array(grown)[at]);
      copy_children(grown, entries + 1, n, entries, nc);
      replace(ref, n, grown);
      return;
    }
    // The 64th holds another entry: push both down into a new child.
    const unsigned at = index_of(n->datamap, bit);
    slot &other = slot_array(n)[at];
    const std::uint64_t other_h = hash_of(entry(other).first);
    node *sub = make_pair_node(shift + bits_per_level, other_h, other, h,
                               fresh); // may throw; shares `other`
    node *reshaped;
    try {
      reshaped = allocate(entries - 1, nc + 1);
    } catch (...) {
      unmake_pair_node(sub, shift + bits_per_level, fresh);
      throw;
    }
    reshaped->datamap = n->datamap & ~bit;
    reshaped->nodemap = n->nodemap | bit;
    hand_over_base(reshaped, n);
    mark_counted(reshaped, bit);
    for (unsigned i = 0, j = 0; i < entries; ++i)
      if (i != at)
        move_slot(&slot_array(reshaped)[j++], slot_array(n)[i]);
    drop_slot(n, bit, other); // `sub` holds its own share
    node **from = children(n, entries);
    node **to = children(reshaped, entries - 1);
    const unsigned ci = index_of(n->nodemap, bit);
    for (unsigned i = 0, j = 0; i <= nc; ++i)
      to[i] = i == ci ? sub : from[j++];
    replace(ref, n, reshaped);
  }

  /// A subtree at depth `shift` holding a share of `a` and (moved) `b`,
  /// whose hashes agree on the bits above `shift`.
  node *make_pair_node(unsigned shift, std::uint64_t ha, const slot &a,
                       std::uint64_t hb, slot &b) {
    if (is_collision(shift)) {
      node *n = allocate(2, 0);
      n->count = 2;
      share_slot(&slot_array(n)[0], a);
      move_slot(&slot_array(n)[1], b);
      last_inserted_ = &entry(slot_array(n)[1]);
      return n;
    }
    const bitmap bit_a = bit_of(ha, shift);
    const bitmap bit_b = bit_of(hb, shift);
    if (bit_a == bit_b) {
      node *n = allocate(0, 1);
      n->nodemap = bit_a;
      try {
        children(n, 0)[0] =
            make_pair_node(shift + bits_per_level, ha, a, hb, b);
      } catch (...) {
        deallocate(n);
        throw;
      }
      return n;
    }
    node *n = allocate(2, 0);
    n->datamap = bit_a | bit_b;
    const bool a_first = bit_a < bit_b;
    share_slot(&slot_array(n)[a_first ? 0 : 1], a);
    move_slot(&slot_array(n)[a_first ? 1 : 0], b);
    last_inserted_ = &entry(slot_array(n)[a_first ? 1 : 0]);
    return n;
  }

  /// Undoes make_pair_node after a later allocation failed: gives `b` back.
  void unmake_pair_node(node *n, unsigned shift, slot &b) {
    while (!is_collision(shift) && n->datamap == 0) {
      node *child = children(n, 0)[0];
      deallocate(n);
      n = child;
      shift += bits_per_level;
    }
    for (unsigned i = 0; i < 2; ++i)
      if (&entry(slot_array(n)[i]) == last_inserted_)
        move_slot(&b, slot_array(n)[i]);
      else
        destroy_slot(slot_array(n)[i]);
    deallocate(n);
  }

  static void copy_children(node *to, unsigned to_entries, node *from,
                            unsigned from_entries, unsigned nc) noexcept {
    for (unsigned i = 0; i < nc; ++i)
      children(to, to_entries)[i] = children(from, from_entries)[i];
  }

  /// `next` (new) takes over the base of `old` (unique, about to be replaced
  /// by `next` at the same depth and freed by replace(), which leaves the
  /// base alone) with the reference `old` held to it, and which positions
  /// are borrowed: slots and children keep their positions.
  static void hand_over_base(node *next, node *old) noexcept {
    next->base = old->base;
    next->owned = old->owned;
  }

  /// `ref` held `old` (unique, its slots moved out and children and base
  /// handed over); make it hold `next` and free `old`'s memory.
  static void replace(node *&ref, node *old, node *next) noexcept {
    ref = next;
    deallocate(old);
  }

  /// Removes `key` (present, hash `h`) below `ref` at depth `shift`;
  /// `parent` holds `ref` at position `parent_bit` (null for the root).
  void erase_at(node *&ref, unsigned shift, std::uint64_t h, const K &key,
                node *parent, bitmap parent_bit) {
    node *n = own(ref, shift, parent, parent_bit);
    if (is_collision(shift)) {
      const unsigned entries = n->count;
      unsigned at = 0;
      while (!eq_(entry(slot_array(n)[at]).first, key))
        ++at;
      node *shrunk = allocate(entries - 1, 0);
      shrunk->count = entries - 1;
      for (unsigned i = 0, j = 0; i < entries; ++i)
        if (i == at)
          destroy_slot(slot_array(n)[i]);
        else
          move_slot(&slot_array(shrunk)[j++], slot_array(n)[i]);
      replace(ref, n, shrunk);
      return;
    }
    const bitmap bit = bit_of(h, shift);
    const unsigned entries = detail::popcount(n->datamap);
    const unsigned nc = child_count(n);
    if (n->datamap & bit) {
      if (entries == 1 && nc == 0) { // the last entry of this node
        drop_slot(n, bit, slot_array(n)[0]);
        ref = nullptr;
        discard(n, shift);
        return;
      }
      const unsigned at = index_of(n->datamap, bit);
      node *shrunk = allocate(entries - 1, nc);
      shrunk->datamap = n->datamap & ~bit;
      shrunk->nodemap = n->nodemap;
      hand_over_base(shrunk, n);
      for (unsigned i = 0, j = 0; i < entries; ++i)
        if (i == at)
          drop_slot(n, bit, slot_array(n)[i]);
        else
          move_slot(&slot_array(shrunk)[j++], slot_array(n)[i]);
      copy_children(shrunk, entries - 1, n, entries, nc);
      replace(ref, n, shrunk);
      return;
    }
    const unsigned ci = index_of(n->nodemap, bit);
    node *&child_ref = children(n, entries)[ci];
    const unsigned child_shift = shift + bits_per_level;
    erase_at(child_ref, child_shift, h, key, n, bit); // n now counts it
    node *child = child_ref;
    // Keep the trie canonical: a child left with one entry and no children
    // is folded into this node, so lookups stay short and the trie's shape
    // depends only on its contents.
    if (child == nullptr || entry_count(child, child_shift) != 1 ||
        (!is_collision(child_shift) && child->nodemap != 0))
      return;
    const unsigned at = index_of(n->datamap, bit);
    node *folded = allocate(entries + 1, nc - 1); // on throw: still valid
    folded->datamap = n->datamap | bit;
    folded->nodemap = n->nodemap & ~bit;
    hand_over_base(folded, n); // counts position `bit`, as n did the child
    for (unsigned i = 0, j = 0; i <= entries; ++i)
      if (i != at)
        move_slot(&slot_array(folded)[i], slot_array(n)[j++]);
      else if (is_collision(child_shift) || counts(child, child->datamap))
        move_slot(&slot_array(folded)[i], slot_array(child)[0]);
      else // the child borrowed its entry's box: folded counts a share
        share_slot(&slot_array(folded)[i], slot_array(child)[0]);
    for (unsigned i = 0, j = 0; i < nc; ++i)
      if (i != ci)
        children(folded, entries + 1)[j++] = children(n, entries)[i];
    // The child is unique (erase_at owned it) and its entry moved or shared.
    discard(child, child_shift);
    replace(ref, n, folded);
  }

  node *root_ = nullptr;
  root_index *index_ = nullptr; // null: look up from the root
  size_type size_ = 0;
  const value_type *last_inserted_ = nullptr;
  Hash hash_;
  KeyEqual eq_;
};

} // namespace concguard

#endif // CONCGUARD_PERSISTENT_MAP_HPP
