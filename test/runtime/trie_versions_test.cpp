// Tests of persistent_map's structure sharing between versions, where a
// copied node borrows the children it shares with the node it was copied
// from (see persistent_map.hpp, `node`):
// - a tree of versions (copies of copies, several written from the same
//   parent, as snapshot_map and user code make them) checked in lockstep
//   against one std::unordered_map per version, with inline and boxed values
//   and with a 5-valued hash (collision nodes, deep paths);
// - every version freed at the end (live values and live allocations
//   counted; LSan checks the same under ASan);
// - memory stays bounded over a long chain of versions (a borrower never
//   borrows from a borrower, and re-bases after a few changes);
// - the root index of big maps followed by every version (copies that
//   share it, shrinking below its range and growing back, a mutable
//   iteration);
// - threads taking and holding snapshots of a snapshot_map<int64, int64>
//   while two writers change it, with 5000 keys and with 40000 (the root
//   index in use) (run under ThreadSanitizer too).
#include "concguard/persistent_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

//===-- Live allocations --------------------------------------------===//

// Replacing the global operator new/delete (a program may) lets the tests
// see every trie node: a version that is never freed, or a chain of versions
// kept alive, shows as allocations that do not come back.
// ThreadSanitizer's runtime defines them itself (a second definition does
// not link): its build checks the races, the others count.
#if defined(__SANITIZE_THREAD__)
#define CONCGUARD_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CONCGUARD_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef CONCGUARD_COUNT_ALLOCATIONS
#define CONCGUARD_COUNT_ALLOCATIONS 1
#endif
namespace {
std::atomic<long> live_allocations{0};
} // namespace

#if CONCGUARD_COUNT_ALLOCATIONS
void *operator new(std::size_t size) {
  void *p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr)
    throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void operator delete(void *p) noexcept {
  if (p == nullptr)
    return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void *p, std::size_t) noexcept { operator delete(p); }
#endif

namespace {

using concguard::persistent_map;

/// Live instances, to check that every version's boxed values are freed.
struct counted {
  static inline std::atomic<long> live{0};
  long v = 0;
  counted() { ++live; }
  explicit counted(long x) : v(x) { ++live; }
  counted(const counted &o) : v(o.v) { ++live; }
  counted &operator=(const counted &) = default;
  ~counted() { --live; }
};

/// Five distinct hash values: collision nodes and full-depth paths.
struct colliding_hash {
  std::size_t operator()(long k) const { return std::size_t(k % 5); }
};

template <class V> V make(long x) {
  if constexpr (std::is_same_v<V, std::string>)
    return std::to_string(x) + std::string(std::size_t(x % 30), 'x');
  else if constexpr (std::is_same_v<V, counted>)
    return counted(x);
  else
    return V(x);
}

template <class V> long number(const V &v) {
  if constexpr (std::is_same_v<V, std::string>)
    return std::stol(v);
  else if constexpr (std::is_same_v<V, counted>)
    return v.v;
  else
    return long(v);
}

using model_t = std::unordered_map<long, long>;

/// Whether `m` holds exactly `model`, by iteration and by lookup.
template <class M>
::testing::AssertionResult same(const M &m, const model_t &model) {
  if (m.size() != model.size())
    return ::testing::AssertionFailure()
           << "size " << m.size() << " != " << model.size();
  std::vector<std::pair<long, long>> got, want(model.begin(), model.end());
  for (const auto &kv : m)
    got.emplace_back(kv.first, number(kv.second));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  if (got != want)
    return ::testing::AssertionFailure() << "contents differ";
  for (const auto &[k, v] : model) {
    const auto *e = m.find_entry(k);
    if (e == nullptr || number(e->second) != v)
      return ::testing::AssertionFailure() << "lookup of " << k;
  }
  return ::testing::AssertionSuccess();
}

/// One random change to `m` and `model`.
template <class V, class M>
void change(M &m, model_t &model, std::mt19937_64 &rng, long keys) {
  const long k = long(rng() % std::uint64_t(keys));
  const long x = long(rng() % 100000);
  switch (rng() % 16) {
  case 0:
  case 1:
  case 2:
    ASSERT_EQ(m.erase(k), model.erase(k));
    break;
  case 3:
    ASSERT_EQ(m.try_emplace(k, make<V>(x)).second,
              model.try_emplace(k, x).second);
    break;
  case 4: { // a change through a mutable iterator
    auto it = m.find(k);
    ASSERT_EQ(it == m.end(), model.count(k) == 0);
    if (it != m.end()) {
      it->second = make<V>(x);
      model[k] = x;
    }
    break;
  }
  case 5:
    m[k] = make<V>(x);
    model[k] = x;
    break;
  case 6:
    if (rng() % 400 == 0) { // every value, through mutable iteration
      for (auto &kv : m)
        kv.second = make<V>(number(kv.second) + 1);
      for (auto &kv : model)
        ++kv.second;
    }
    break;
  case 7:
    if (rng() % 3000 == 0) {
      m.clear();
      model.clear();
    }
    break;
  default:
    ASSERT_EQ(m.insert_or_assign(k, make<V>(x)).second,
              model.insert_or_assign(k, x).second);
  }
}

/// A pool of versions; each step copies a random one, changes the copy and
/// keeps it (sometimes in place of its parent, as snapshot_map does, else in
/// place of a random version or beside them). Every version is checked
/// against its own model along the way and at the end.
template <class V, class H>
void version_tree(std::uint64_t seed, long keys, int steps) {
  using PM = persistent_map<long, V, H>;
  std::vector<std::pair<PM, model_t>> pool(1);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < keys * 2 / 3; ++i) {
    const long k = long(rng() % std::uint64_t(keys));
    pool[0].first.insert_or_assign(k, make<V>(i));
    pool[0].second[k] = i;
  }
  for (int step = 1; step <= steps; ++step) {
    const std::size_t parent = rng() % pool.size();
    std::pair<PM, model_t> next = pool[parent];
    for (int n = 1 + int(rng() % 3); n > 0; --n)
      change<V>(next.first, next.second, rng, keys);
    if (::testing::Test::HasFatalFailure())
      return;
    const unsigned where = unsigned(rng() % 4);
    if (where == 0 || pool.size() >= 12)
      pool[where == 0 ? parent : rng() % pool.size()] = std::move(next);
    else
      pool.push_back(std::move(next));
    if (step % 500 == 0)
      for (const auto &[m, model] : pool)
        ASSERT_TRUE(same(m, model)) << "step " << step;
  }
  for (const auto &[m, model] : pool)
    ASSERT_TRUE(same(m, model));
}

TEST(TrieVersions, TreeOfVersionsInline) {
  version_tree<long, std::hash<long>>(11, 4000, 6000);
}
TEST(TrieVersions, TreeOfVersionsBoxed) {
  version_tree<std::string, std::hash<long>>(12, 4000, 4000);
}
TEST(TrieVersions, TreeOfVersionsCollisions) {
  version_tree<long, colliding_hash>(13, 300, 4000);
  version_tree<std::string, colliding_hash>(14, 300, 4000);
}

TEST(TrieVersions, EveryVersionIsFreed) {
  const long allocations = live_allocations.load();
  ASSERT_EQ(counted::live.load(), 0);
  version_tree<counted, std::hash<long>>(15, 4000, 3000);
  version_tree<counted, colliding_hash>(16, 300, 2000);
  version_tree<long, std::hash<long>>(17, 4000, 3000);
  EXPECT_EQ(counted::live.load(), 0);
  EXPECT_EQ(live_allocations.load(), allocations);
}

/// A chain of versions like snapshot_map's: each write copies the current
/// version, changes the copy, and drops the previous version. What stays
/// allocated is the current version plus what its nodes' bases keep alive;
/// it must not grow with the number of writes.
template <class V> void bounded_chain(long keys, long writes) {
  const long before = live_allocations.load();
  {
    persistent_map<long, V> m;
    std::mt19937_64 rng(21);
    for (long k = 0; k < keys; ++k)
      m.insert_or_assign(k, make<V>(k));
    const long built = live_allocations.load() - before; // no sharing
    long peak = 0;
    for (long i = 0; i < writes; ++i) {
      persistent_map<long, V> next = m;
      const long k = long(rng() % std::uint64_t(keys));
      if (i % 8 == 0) {
        next.erase(k);
        next.try_emplace(k, make<V>(i));
      } else {
        next.insert_or_assign(k, make<V>(i));
      }
      m = std::move(next);
      if (i % 256 == 0)
        peak = std::max(peak, live_allocations.load() - before);
    }
    // Each borrowing node keeps at most one base alive, and that base keeps
    // only what the borrower replaced since (at most max_owned = 8 positions
    // before the next copy re-bases, more only for changes in place): the
    // bases add a fraction of the trie (measured: about 1.13x the freshly
    // built trie, for both value kinds), not one version per write (a copy
    // that borrows from a borrower, chaining the versions, reaches 50-85x
    // here).
    EXPECT_LE(peak, 2 * built)
        << "built " << built << ", " << writes << " writes";
    EXPECT_GT(peak, built / 2);
  }
  EXPECT_EQ(live_allocations.load(), before);
}

TEST(TrieVersions, MemoryStaysBoundedOverAChainOfVersions) {
  bounded_chain<long>(10000, 60000);
  bounded_chain<counted>(3000, 30000);
  EXPECT_EQ(counted::live.load(), 0);
}

/// The root index of big maps (persistent_map.hpp, "Root index"): a tree of
/// versions above, across and below the size where the index is kept, each
/// checked against its own model by lookups (which start from the index)
/// after every change, then whole. Writes go to copies that share the
/// index, so a write that changed the shared index instead of a copy, or
/// left an entry pointing at a replaced node, shows as a wrong lookup (or,
/// under ASan, a use after free).
TEST(TrieVersions, RootIndexFollowsEveryVersion) {
  const long allocations = live_allocations.load();
  {
    using map_t = persistent_map<long, long>;
    std::mt19937_64 rng(23);
    map_t base;
    model_t base_model;
    for (long k = 0; k < 40000; ++k) {
      base.insert_or_assign(k, k);
      base_model[k] = k;
    }
    ASSERT_TRUE(base.indexed());
    auto lookups_agree = [](const map_t &m, const model_t &model, long lo,
                            long hi) {
      for (long k = lo; k < hi; ++k) {
        const auto *e = m.find_entry(k);
        const auto it = model.find(k);
        if ((e == nullptr) != (it == model.end()) ||
            (e != nullptr && e->second != it->second))
          return ::testing::AssertionFailure() << "lookup of " << k;
      }
      return ::testing::AssertionSuccess();
    };
    std::vector<std::pair<map_t, model_t>> versions;
    versions.emplace_back(base, base_model);
    for (int round = 0; round < 6; ++round) {
      // Three children of one parent, each changed in its own way.
      const auto [parent, parent_model] = versions.back();
      for (int child = 0; child < 3; ++child) {
        map_t m = parent;
        model_t model = parent_model;
        for (int i = 0; i < 300; ++i) {
          const long k = long(rng() % 50000);
          if (child == 0 || rng() % 3 != 0) {
            m.insert_or_assign(k, -k - i);
            model[k] = -k - i;
          } else {
            m.erase(k);
            model.erase(k);
          }
        }
        ASSERT_TRUE(lookups_agree(m, model, 0, 50000));
        versions.emplace_back(std::move(m), std::move(model));
      }
    }
    for (const auto &[m, model] : versions) {
      EXPECT_TRUE(m.indexed());
      EXPECT_TRUE(same(m, model));
    }
    // Shrink one copy below the index's range and grow it back.
    map_t m = base;
    model_t model = base_model;
    for (long k = 0; k < 30000; ++k) {
      m.erase(k);
      model.erase(k);
    }
    EXPECT_FALSE(m.indexed());
    EXPECT_TRUE(lookups_agree(m, model, 0, 50000));
    for (long k = 0; k < 30000; ++k) {
      m.try_emplace(k, 7);
      model.emplace(k, 7);
    }
    EXPECT_TRUE(m.indexed());
    EXPECT_TRUE(lookups_agree(m, model, 0, 50000));
    // A mutable iteration copies every shared node: the index follows.
    map_t all = base;
    for (auto &kv : all)
      kv.second += 1;
    for (auto &[k, v] : base_model)
      v += 1;
    EXPECT_TRUE(all.indexed());
    EXPECT_TRUE(lookups_agree(all, base_model, 0, 50000));
    EXPECT_TRUE(same(versions.front().first, versions.front().second));
  }
  EXPECT_EQ(live_allocations.load(), allocations);
}

//===-- Threads: snapshots held during writes ------------------------===//

long scaled(long n) {
  const char *v = std::getenv("CONCGUARD_STRESS_SCALE");
  const long pct = v != nullptr ? std::strtol(v, nullptr, 10) : 100;
  return n * pct / 100 > 0 ? n * pct / 100 : 1;
}

std::uint64_t digest(const persistent_map<std::int64_t, std::int64_t> &s) {
  std::uint64_t d = 0;
  for (const auto &kv : s)
    d += (std::uint64_t(kv.first) * 0x9e3779b97f4a7c15ULL) ^
         std::uint64_t(kv.second);
  return d;
}

/// Inline int64 entries, big enough that the root and the second level
/// borrow: two writers (single keys, erasures, whole-group batches) and two
/// readers that check each snapshot's group is whole and that snapshots they
/// hold never change. Every allocation is returned at the end.
void held_snapshots(std::int64_t keys, long ops_unscaled) {
  using TMap = concguard::snapshot_map<std::int64_t, std::int64_t>;
  const long allocations = live_allocations.load();
  {
    TMap m;
    constexpr std::int64_t group = 16;
    m.update([&](TMap::map_type &mm) {
      for (std::int64_t k = 0; k < keys; ++k)
        mm.insert_or_assign(k, 0);
    });
    EXPECT_EQ(m.snapshot()->indexed(), keys >= 32768);
    std::atomic<long> failures{0};
    const long ops = scaled(ops_unscaled);
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t)
      pool.emplace_back([&, t] {
        std::mt19937_64 rng(std::uint64_t(t) * 31 + 5);
        if (t < 2) {
          for (long i = 0; i < ops; ++i) {
            const std::int64_t k = group + std::int64_t(rng() % keys);
            switch (rng() % 8) {
            case 0:
              m.erase(k);
              break;
            case 1: {
              const std::int64_t x = std::int64_t(rng() % 1000);
              m.update([&](TMap::map_type &mm) {
                for (std::int64_t g = 0; g < group; ++g)
                  mm.insert_or_assign(g, x);
              });
              break;
            }
            default:
              m.insert_or_assign(k, std::int64_t(i));
            }
          }
          return;
        }
        std::vector<std::pair<TMap::snapshot_type, std::uint64_t>> held;
        for (long i = 0; i < ops; ++i) {
          TMap::snapshot_type s = m.snapshot();
          const std::int64_t first = s->at(0);
          for (std::int64_t g = 1; g < group; ++g)
            if (s->at(g) != first)
              failures.fetch_add(1);
          (void)m.get(group + std::int64_t(rng() % keys));
          if (i % 40 == 0)
            held.emplace_back(s, digest(*s));
          if (held.size() > 8) {
            for (const auto &[snap, d] : held)
              if (digest(*snap) != d)
                failures.fetch_add(1);
            held.erase(held.begin(), held.begin() + 4);
          }
        }
        for (const auto &[snap, d] : held)
          if (digest(*snap) != d)
            failures.fetch_add(1);
        held.clear();
        TMap::release_thread_cache();
      });
    for (auto &th : pool)
      th.join();
    EXPECT_EQ(failures.load(), 0);
  }
  TMap::release_thread_cache();
  EXPECT_EQ(live_allocations.load(), allocations);
}

TEST(TrieVersionsStress, Int64SnapshotsHeldDuringWritesStayUnchanged) {
  held_snapshots(5000, 8000);
}

/// The same with a map big enough for the root index: every write copies
/// the index of the snapshot it replaces while readers look up through
/// theirs.
TEST(TrieVersionsStress, IndexedSnapshotsHeldDuringWritesStayUnchanged) {
  held_snapshots(40000, 3000);
}

} // namespace
