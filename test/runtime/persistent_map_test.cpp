// Tests of concguard::persistent_map, the hash trie behind snapshot_map:
// random operations in lockstep with std::unordered_map (with a good hash,
// and with a hash that puts every key in one of 5 buckets so that collision
// nodes and deep paths are exercised), old copies unchanged by later writes,
// every value freed when the last copy goes, and a throwing constructor
// leaving the map as it was.
#include "concguard/persistent_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using concguard::persistent_map;

/// Live instances, to check that every version's values are freed.
struct counted {
  static inline long live = 0;
  long v = 0;
  counted() { ++live; }
  explicit counted(long x) : v(x) { ++live; }
  counted(const counted &o) : v(o.v) { ++live; }
  counted &operator=(const counted &) = default;
  ~counted() { --live; }
  friend bool operator==(const counted &a, const counted &b) {
    return a.v == b.v;
  }
};

/// Five distinct hash values: every 64-bit hash collides with a fifth of
/// the keys, so the trie builds full-depth paths and collision nodes.
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

template <class M, class Model>
std::vector<std::pair<long, long>> contents(const M &m, const Model &) {
  std::vector<std::pair<long, long>> out;
  for (const auto &kv : m)
    out.emplace_back(kv.first, number(kv.second));
  std::sort(out.begin(), out.end());
  return out;
}

template <class Model>
std::vector<std::pair<long, long>> expected(const Model &model) {
  std::vector<std::pair<long, long>> out;
  for (const auto &kv : model)
    out.emplace_back(kv.first, number(kv.second));
  std::sort(out.begin(), out.end());
  return out;
}

template <class V, class H> void differential(std::uint64_t seed, long keys) {
  persistent_map<long, V, H> m;
  std::unordered_map<long, V> model;
  std::vector<
      std::pair<persistent_map<long, V, H>, std::unordered_map<long, V>>>
      versions;
  std::mt19937_64 rng(seed);
  for (int step = 0; step < 60000; ++step) {
    const long k = long(rng() % std::uint64_t(keys));
    const long x = long(rng() % 1000);
    switch (rng() % 9) {
    case 0:
    case 1: {
      auto r = m.insert_or_assign(k, make<V>(x));
      bool inserted = model.insert_or_assign(k, make<V>(x)).second;
      ASSERT_EQ(r.second, inserted);
      ASSERT_EQ(r.first->first, k);
      ASSERT_EQ(number(r.first->second), x);
      break;
    }
    case 2: {
      auto r = m.try_emplace(k, make<V>(x));
      bool inserted = model.try_emplace(k, make<V>(x)).second;
      ASSERT_EQ(r.second, inserted);
      ASSERT_EQ(number(r.first->second), number(model.at(k)));
      break;
    }
    case 3:
      ASSERT_EQ(m.erase(k), model.erase(k));
      break;
    case 4: {
      auto it = m.find(k);
      auto mi = model.find(k);
      ASSERT_EQ(it == m.end(), mi == model.end());
      if (it != m.end()) { // a change through a mutable iterator
        it->second = make<V>(x);
        mi->second = make<V>(x);
      }
      break;
    }
    case 5: {
      const auto &cm = m;
      auto it = cm.find(k);
      auto mi = model.find(k);
      ASSERT_EQ(it == cm.end(), mi == model.end());
      ASSERT_EQ(cm.contains(k), mi != model.end());
      ASSERT_EQ(cm.count(k), model.count(k));
      if (it != cm.end()) {
        ASSERT_EQ(number(it->second), number(mi->second));
        ASSERT_EQ(number(cm.at(k)), number(mi->second));
      } else {
        ASSERT_THROW((void)cm.at(k), std::out_of_range);
      }
      break;
    }
    case 6:
      if (rng() % 64 == 0) { // keep a version to check later
        versions.emplace_back(m, model);
      }
      break;
    case 7:
      if (rng() % 2000 == 0) {
        m.clear();
        model.clear();
      }
      break;
    default:
      if (m.find_entry(k) == nullptr) {
        m[k] = make<V>(x);
        model[k] = make<V>(x);
      }
      break;
    }
    ASSERT_EQ(m.size(), model.size());
    if (step % 2048 == 0)
      ASSERT_EQ(contents(m, model), expected(model)) << "step " << step;
  }
  ASSERT_EQ(contents(m, model), expected(model));
  // Versions kept along the way still hold what they held then.
  ASSERT_FALSE(versions.empty());
  for (const auto &[old_map, old_model] : versions) {
    ASSERT_EQ(old_map.size(), old_model.size());
    ASSERT_EQ(contents(old_map, old_model), expected(old_model));
  }
  // Erase everything: the trie folds back to empty.
  for (long k = 0; k < keys; ++k)
    m.erase(k);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.begin(), m.end());
}

TEST(PersistentMap, DifferentialInt64) {
  differential<long, std::hash<long>>(1, 5000);
}
TEST(PersistentMap, DifferentialInt64Collisions) {
  differential<long, colliding_hash>(2, 400);
}
TEST(PersistentMap, DifferentialBoxedStrings) {
  differential<std::string, std::hash<long>>(3, 5000);
}
TEST(PersistentMap, DifferentialBoxedStringsCollisions) {
  differential<std::string, colliding_hash>(4, 400);
}

TEST(PersistentMap, EveryVersionIsFreed) {
  ASSERT_EQ(counted::live, 0);
  {
    differential<counted, std::hash<long>>(5, 3000);
    differential<counted, colliding_hash>(6, 300);
  }
  EXPECT_EQ(counted::live, 0);
  {
    concguard::snapshot_map<long, counted> s;
    std::vector<std::shared_ptr<const persistent_map<long, counted>>> kept;
    for (long i = 0; i < 5000; ++i) {
      s.insert_or_assign(i % 700, counted(i));
      if (i % 100 == 0)
        kept.push_back(s.snapshot());
      if (i % 333 == 0)
        s.erase_if([](const long &k, const counted &) { return k % 3 == 0; });
    }
    EXPECT_GT(counted::live, 700);
    kept.clear();
  }
  concguard::snapshot_map<long, counted>::release_thread_cache();
  EXPECT_EQ(counted::live, 0);
}

TEST(PersistentMap, CopiesAreIndependent) {
  persistent_map<int, std::string> a{{1, "one"}, {2, "two"}};
  persistent_map<int, std::string> b = a;
  b[1] += "!";
  b.erase(2);
  b.insert({3, "three"});
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a.at(1), "one");
  EXPECT_EQ(a.at(2), "two");
  EXPECT_FALSE(a.contains(3));
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.at(1), "one!");
  EXPECT_EQ(b.at(3), "three");
  for (auto &kv : b) // mutable iteration copies only b's share
    kv.second += "?";
  EXPECT_EQ(a.at(1), "one");
  EXPECT_EQ(b.at(1), "one!?");
  persistent_map<int, std::string> c = std::move(b);
  EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): moved-from empty
  EXPECT_EQ(c.size(), 2u);
  swap(a, c);
  EXPECT_EQ(a.at(3), "three?");
  EXPECT_EQ(c.at(2), "two");
}

struct thrower {
  static inline bool armed = false;
  int v = 0;
  thrower() = default;
  explicit thrower(int x) : v(x) {
    if (armed)
      throw std::runtime_error("thrower");
  }
};

TEST(PersistentMap, ThrowingConstructorChangesNothing) {
  persistent_map<int, thrower, colliding_hash> m;
  for (int i = 0; i < 50; ++i)
    m.try_emplace(i, i);
  persistent_map<int, thrower, colliding_hash> copy = m;
  thrower::armed = true;
  for (int i = 40; i < 60; ++i)
    EXPECT_THROW(m.try_emplace(i + 100, i), std::runtime_error);
  thrower::armed = false;
  EXPECT_EQ(m.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(m.at(i).v, i);
  EXPECT_EQ(copy.size(), 50u);
  std::size_t n = 0;
  for (const auto &kv : m)
    n += kv.first >= 0 ? 1 : 0;
  EXPECT_EQ(n, 50u);
}

TEST(SnapshotMapTrie, SnapshotsTakenBeforeWritesStayUnchanged) {
  concguard::snapshot_map<long, long> m;
  std::vector<std::pair<std::shared_ptr<const persistent_map<long, long>>,
                        std::unordered_map<long, long>>>
      kept;
  std::unordered_map<long, long> model;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const long k = long(rng() % 3000);
    if (rng() % 4 == 0) {
      m.erase(k);
      model.erase(k);
    } else {
      m.insert_or_assign(k, i);
      model[k] = i;
    }
    if (i % 1000 == 0)
      kept.emplace_back(m.snapshot(), model);
  }
  for (const auto &[snap, then] : kept)
    EXPECT_EQ(contents(*snap, then), expected(then));
}

} // namespace

// The lookup counts bitmap bits with the CPU's popcnt where it has one and
// with the portable count otherwise: both must agree on every kind of word.
TEST(PersistentMapPopcount, PortableAgreesWithBuiltin) {
  std::mt19937 rng(7);
  const concguard::detail::portable_popcount portable;
  const concguard::detail::builtin_popcount builtin;
  for (std::uint32_t x : {0u, 1u, 0x80000000u, 0xffffffffu, 0x55555555u,
                          0xaaaaaaaau, 0x0f0f0f0fu})
    EXPECT_EQ(portable(x), builtin(x)) << x;
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t x = rng();
    ASSERT_EQ(portable(x), builtin(x)) << x;
    ASSERT_EQ(portable(x & (x >> 7)), builtin(x & (x >> 7))) << x;
  }
  // 64-bit bitmaps (the trie's 64-way nodes).
  std::mt19937_64 rng64(8);
  for (std::uint64_t x :
       {std::uint64_t(0), std::uint64_t(1), ~std::uint64_t(0),
        std::uint64_t(1) << 63, std::uint64_t(0x5555555555555555ull),
        std::uint64_t(0xffffffff00000000ull)})
    EXPECT_EQ(portable(x), builtin(x)) << x;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t x = rng64();
    ASSERT_EQ(portable(x), builtin(x)) << x;
    ASSERT_EQ(portable(x & (x >> 9)), builtin(x & (x >> 9))) << x;
  }
}
