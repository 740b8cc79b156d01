// Unit tests of concguard::sharded_map: every member function, shard
// selection spread, copy semantics.
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace {

using concguard::sharded_map;
using Map = sharded_map<int, std::string>;

TEST(ShardedMap, StartsEmpty) {
  Map m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.get(1).has_value());
  EXPECT_FALSE(m.contains(1));
  EXPECT_EQ(m.count(1), 0u);
  EXPECT_EQ(m.shard_count(), Map::default_shard_count);
}

TEST(ShardedMap, ShardCountRoundsToPowerOfTwo) {
  EXPECT_EQ(Map(0).shard_count(), 1u);
  EXPECT_EQ(Map(1).shard_count(), 1u);
  EXPECT_EQ(Map(3).shard_count(), 4u);
  EXPECT_EQ(Map(64).shard_count(), 64u);
  EXPECT_EQ(Map(100).shard_count(), 128u);
  EXPECT_EQ(Map(std::size_t(1) << 30).shard_count(), Map::max_shard_count);
}

TEST(ShardedMap, InsertDoesNotOverwrite) {
  Map m;
  EXPECT_TRUE(m.insert(1, "one"));
  EXPECT_FALSE(m.insert(1, "uno"));
  EXPECT_EQ(m.get(1), std::optional<std::string>("one"));
  EXPECT_EQ(m.size(), 1u);
  EXPECT_FALSE(m.empty());
}

TEST(ShardedMap, EmplaceAndTryEmplaceConstructInPlace) {
  Map m;
  EXPECT_TRUE(m.emplace(1, 3u, 'a'));
  EXPECT_EQ(m.at(1), "aaa");
  EXPECT_FALSE(m.emplace(1, 2u, 'b'));
  EXPECT_EQ(m.at(1), "aaa");
  EXPECT_TRUE(m.try_emplace(2, "two"));
  EXPECT_FALSE(m.try_emplace(2, "deux"));
  EXPECT_EQ(m.at(2), "two");
}

TEST(ShardedMap, TryEmplaceLeavesArgumentsAloneWhenKeyExists) {
  sharded_map<int, std::unique_ptr<int>> m;
  auto p = std::make_unique<int>(5);
  EXPECT_TRUE(m.try_emplace(1, std::move(p)));
  auto q = std::make_unique<int>(6);
  EXPECT_FALSE(m.try_emplace(1, std::move(q)));
  ASSERT_NE(q, nullptr); // not moved from
  EXPECT_FALSE(m.emplace(1, std::move(q)));
  ASSERT_NE(q, nullptr);
  int seen = 0;
  EXPECT_TRUE(m.visit(1, [&](const std::unique_ptr<int> &v) { seen = *v; }));
  EXPECT_EQ(seen, 5);
}

TEST(ShardedMap, InsertOrAssignReportsInsertion) {
  Map m;
  EXPECT_TRUE(m.insert_or_assign(1, "a"));
  EXPECT_FALSE(m.insert_or_assign(1, "b"));
  EXPECT_EQ(m.at(1), "b");
}

/// Counts how a value was copied: insert_or_assign of an lvalue over a
/// present key must copy-assign (reusing the old value's memory), not build
/// a copy and move it in.
struct assign_counted {
  static inline int constructions = 0;
  static inline int assignments = 0;
  std::vector<std::string> parts;
  assign_counted() = default;
  explicit assign_counted(std::vector<std::string> p) : parts(std::move(p)) {}
  assign_counted(const assign_counted &o) : parts(o.parts) { ++constructions; }
  assign_counted(assign_counted &&) noexcept = default;
  assign_counted &operator=(const assign_counted &o) {
    parts = o.parts;
    ++assignments;
    return *this;
  }
  assign_counted &operator=(assign_counted &&) noexcept = default;
};

TEST(ShardedMap, InsertOrAssignOfAnLvalueCopyAssignsInPlace) {
  sharded_map<int, assign_counted> m;
  const assign_counted value(std::vector<std::string>(3, std::string(24, 'x')));
  EXPECT_TRUE(m.insert_or_assign(1, value)); // absent: one copy construction
  EXPECT_EQ(assign_counted::constructions, 1);
  assign_counted::constructions = 0;
  EXPECT_FALSE(m.insert_or_assign(1, value)); // present: one assignment only
  EXPECT_EQ(assign_counted::constructions, 0);
  EXPECT_EQ(assign_counted::assignments, 1);
  EXPECT_FALSE(m.insert_or_assign(1, assign_counted({"moved"}))); // no copy
  EXPECT_EQ(assign_counted::constructions, 0);
  EXPECT_EQ(assign_counted::assignments, 1);
  EXPECT_EQ(m.at(1).parts, std::vector<std::string>{"moved"});
}

TEST(ShardedMap, InsertOrAssignTakesConvertiblesAndBracedLists) {
  Map m;
  EXPECT_TRUE(m.insert_or_assign(1, "one")); // const char[4] -> std::string
  EXPECT_FALSE(m.insert_or_assign(1, {}));   // braced list: a V
  EXPECT_EQ(m.at(1), "");
  sharded_map<int, std::vector<int>> v;
  EXPECT_TRUE(v.insert_or_assign(2, {1, 2, 3}));
  EXPECT_EQ(v.at(2), (std::vector<int>{1, 2, 3}));
  std::vector<int> lvalue{4};
  EXPECT_FALSE(v.insert_or_assign(2, lvalue));
  EXPECT_EQ(v.at(2), lvalue);
}

TEST(ShardedMap, AtThrowsOutOfRange) {
  Map m;
  EXPECT_THROW(m.at(42), std::out_of_range);
  m.insert(42, "x");
  EXPECT_EQ(m.at(42), "x");
}

TEST(ShardedMap, GetReturnsACopy) {
  Map m;
  m.insert(1, "abc");
  std::optional<std::string> v = m.get(1);
  ASSERT_TRUE(v);
  *v = "changed";
  EXPECT_EQ(m.at(1), "abc");
}

TEST(ShardedMap, VisitSeesValueWithoutCopy) {
  Map m;
  m.insert(1, "abc");
  const std::string *first = nullptr;
  const std::string *second = nullptr;
  EXPECT_TRUE(m.visit(1, [&](const std::string &v) { first = &v; }));
  EXPECT_TRUE(m.visit(1, [&](const std::string &v) { second = &v; }));
  EXPECT_EQ(first, second); // the element itself, not a temporary copy
  bool called = false;
  EXPECT_FALSE(m.visit(2, [&](const std::string &) { called = true; }));
  EXPECT_FALSE(called);
}

TEST(ShardedMap, UpdateOnlyTouchesExistingKeys) {
  Map m;
  EXPECT_FALSE(m.update(1, [](std::string &v) { v += "!"; }));
  EXPECT_FALSE(m.contains(1));
  m.insert(1, "a");
  EXPECT_TRUE(m.update(1, [](std::string &v) { v += "!"; }));
  EXPECT_EQ(m.at(1), "a!");
}

TEST(ShardedMap, UpsertDefaultConstructsThenApplies) {
  sharded_map<int, std::vector<int>> m;
  m.upsert(7, [](std::vector<int> &v) { v.push_back(1); });
  m.upsert(7, [](std::vector<int> &v) { v.push_back(2); });
  EXPECT_EQ(m.at(7), (std::vector<int>{1, 2}));
  sharded_map<int, int> counts;
  counts.upsert(1, [](int &v) {
    EXPECT_EQ(v, 0);
    ++v;
  });
  EXPECT_EQ(counts.at(1), 1);
}

TEST(ShardedMap, GetOrInsertDefaultBehavesLikeSubscriptRead) {
  sharded_map<int, int> m;
  EXPECT_EQ(m.get_or_insert_default(3), 0);
  EXPECT_TRUE(m.contains(3));
  m.insert_or_assign(3, 9);
  EXPECT_EQ(m.get_or_insert_default(3), 9);
  EXPECT_EQ(m.size(), 1u);
}

TEST(ShardedMap, EraseAndEraseIf) {
  sharded_map<int, int> m(8);
  for (int i = 0; i < 100; ++i)
    m.insert(i, i * i);
  EXPECT_EQ(m.erase(5), 1u);
  EXPECT_EQ(m.erase(5), 0u);
  EXPECT_EQ(m.size(), 99u);
  std::size_t removed =
      m.erase_if([](const int &k, const int &) { return k % 2 == 0; });
  EXPECT_EQ(removed, 50u);
  EXPECT_EQ(m.size(), 49u);
  m.for_each([](const int &k, const int &v) {
    EXPECT_EQ(k % 2, 1);
    EXPECT_EQ(v, k * k);
  });
  EXPECT_EQ(m.erase_if([](const int &, const int &v) { return v > 1000000; }),
            0u);
}

template <class V> void erase_if_calls_pred_once_per_element() {
  // One shard, so one table with long clusters and wrap-around; remove
  // various fractions and check that each element is seen exactly once.
  for (int modulus : {2, 3, 7, 1}) {
    sharded_map<std::uint64_t, V> m(1);
    std::set<std::uint64_t> keys;
    std::mt19937_64 rng{std::uint64_t(modulus)};
    for (int i = 0; i < 3000; ++i) {
      std::uint64_t k = rng() % 100000;
      keys.insert(k);
      m.insert(k, V(1, 'x'));
    }
    std::map<std::uint64_t, int> calls;
    const std::size_t removed =
        m.erase_if([&](const std::uint64_t &k, const V &) {
          ++calls[k];
          return k % std::uint64_t(modulus) == 0;
        });
    ASSERT_EQ(calls.size(), keys.size()) << "modulus " << modulus;
    std::size_t expected_removed = 0;
    for (std::uint64_t k : keys) {
      EXPECT_EQ(calls[k], 1) << "key " << k;
      expected_removed += k % std::uint64_t(modulus) == 0;
      EXPECT_EQ(m.contains(k), k % std::uint64_t(modulus) != 0) << "key " << k;
    }
    EXPECT_EQ(removed, expected_removed);
    EXPECT_EQ(m.size(), keys.size() - expected_removed);
  }
}

struct throwing_move_string : std::string {
  using std::string::string;
  throwing_move_string(const throwing_move_string &) = default;
  throwing_move_string(throwing_move_string &&o) noexcept(false)
      : std::string(std::move(static_cast<std::string &>(o))) {}
  throwing_move_string &operator=(const throwing_move_string &) = default;
  throwing_move_string &operator=(throwing_move_string &&) = default;
};

TEST(ShardedMap, EraseIfCallsPredicateOncePerElement) {
  erase_if_calls_pred_once_per_element<std::string>(); // open addressing
  erase_if_calls_pred_once_per_element<throwing_move_string>(); // node based
}

TEST(ShardedMap, EraseKeepsEveryOtherKeyReachable) {
  // Many erasures in one table: after each, every remaining key must still
  // be found (a wrong backward shift strands elements behind a hole).
  sharded_map<std::uint64_t, int> m(1);
  std::vector<std::uint64_t> keys;
  for (std::uint64_t k = 0; k < 2000; ++k) {
    keys.push_back(k * 0x9e3779b97f4a7c15ULL);
    m.insert(keys.back(), int(k));
  }
  std::mt19937_64 rng(3);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(m.erase(keys[i]), 1u);
    if (i % 97 == 0)
      for (std::size_t j = i + 1; j < keys.size(); ++j)
        ASSERT_TRUE(m.contains(keys[j])) << "after erasing " << i + 1;
  }
  EXPECT_TRUE(m.empty());
}

TEST(ShardedMap, StringKeysSurviveGrowthAndBackwardShifts) {
  // Non-trivial keys and values in the open-addressing tables: they move on
  // every growth and on deletions.
  sharded_map<std::string, std::string> m(4);
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(m.insert("key-" + std::to_string(i), std::string(i % 50, 'v')));
  for (int i = 0; i < 5000; i += 2)
    ASSERT_EQ(m.erase("key-" + std::to_string(i)), 1u);
  for (int i = 0; i < 5000; ++i) {
    auto v = m.get("key-" + std::to_string(i));
    ASSERT_EQ(v.has_value(), i % 2 == 1) << i;
    if (v)
      EXPECT_EQ(*v, std::string(i % 50, 'v'));
  }
  EXPECT_EQ(m.size(), 2500u);
  sharded_map<std::string, std::string> copy(m);
  m.clear();
  EXPECT_EQ(copy.size(), 2500u);
  EXPECT_EQ(copy.at("key-4999"), std::string(4999 % 50, 'v'));
}

TEST(ShardedMap, ClearEmptiesEveryShard) {
  sharded_map<int, int> m(16);
  for (int i = 0; i < 1000; ++i)
    m.insert(i, i);
  EXPECT_EQ(m.size(), 1000u);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.contains(10));
  EXPECT_TRUE(m.insert(10, 1)); // still usable
  EXPECT_EQ(m.size(), 1u);
}

TEST(ShardedMap, ReserveKeepsContents) {
  sharded_map<int, int> m(4);
  m.insert(1, 1);
  m.reserve(10000);
  m.reserve(0);
  EXPECT_EQ(m.at(1), 1);
  for (int i = 2; i < 5000; ++i)
    m.insert(i, i);
  EXPECT_EQ(m.size(), 4999u);
}

TEST(ShardedMap, ForEachAndForEachMutVisitEverything) {
  sharded_map<int, int> m(32);
  for (int i = 0; i < 500; ++i)
    m.insert(i, 1);
  m.for_each_mut([](const int &k, int &v) { v = k + 1; });
  long sum = 0;
  std::size_t seen = 0;
  m.for_each([&](const int &k, const int &v) {
    EXPECT_EQ(v, k + 1);
    sum += v;
    ++seen;
  });
  EXPECT_EQ(seen, 500u);
  EXPECT_EQ(sum, 500L * 501 / 2);
}

TEST(ShardedMap, SnapshotCopiesEveryElement) {
  sharded_map<int, std::string> m(4);
  for (int i = 0; i < 50; ++i)
    m.insert(i, std::to_string(i));
  auto snap = m.snapshot();
  ASSERT_EQ(snap.size(), 50u);
  std::sort(snap.begin(), snap.end());
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(snap[i].first, i);
    EXPECT_EQ(snap[i].second, std::to_string(i));
  }
  m.clear();
  EXPECT_EQ(snap.size(), 50u); // independent of the map
}

TEST(ShardedMap, InitializerListAndCopies) {
  sharded_map<int, std::string> m{{1, "a"}, {2, "b"}, {1, "ignored"}};
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at(1), "a");
  sharded_map<int, std::string> copy(m);
  EXPECT_EQ(copy.shard_count(), m.shard_count());
  m.insert_or_assign(1, "changed");
  EXPECT_EQ(copy.at(1), "a");
  EXPECT_EQ(copy.size(), 2u);

  sharded_map<int, std::string> other(4);
  other.insert(99, "z");
  other = m;
  EXPECT_EQ(other.shard_count(), 4u); // keeps its own shard count
  EXPECT_EQ(other.size(), 2u);
  EXPECT_EQ(other.at(1), "changed");
  EXPECT_FALSE(other.contains(99));
  for (int k : {1, 2})
    EXPECT_EQ(other.shard_of(k), other.shard_of(k)); // stable
  other = other; // self-assignment is a no-op
  EXPECT_EQ(other.size(), 2u);

  sharded_map<int, std::string> moved(std::move(copy)); // falls back to copy
  EXPECT_EQ(moved.at(2), "b");
}

struct ModHash {
  explicit ModHash(int salt = 0) : salt(salt) {}
  std::size_t operator()(int k) const { return std::size_t(k + salt); }
  int salt;
};
struct ModEqual {
  bool operator()(int a, int b) const { return a % 1000 == b % 1000; }
};

TEST(ShardedMap, UsesGivenHashAndEquality) {
  // Keys equal modulo 1000 must be one key: the hash must agree.
  struct Mod1000Hash {
    std::size_t operator()(int k) const { return std::hash<int>()(k % 1000); }
  };
  sharded_map<int, int, Mod1000Hash, ModEqual> m(16);
  EXPECT_TRUE(m.insert(5, 1));
  EXPECT_FALSE(m.insert(1005, 2));
  EXPECT_EQ(m.at(2005), 1);
  EXPECT_EQ(m.shard_of(5), m.shard_of(1005));
  sharded_map<int, int, ModHash> salted(8, ModHash(17));
  EXPECT_EQ(salted.hash_function().salt, 17);
}

// --- Shard selection must spread keys whose hashes differ only in high bits
// (identity hashes of pointers, multiples of 2^k), and Zipf-distributed keys.

std::vector<std::size_t> shard_loads(const sharded_map<std::uint64_t, int> &m,
                                     const std::vector<std::uint64_t> &keys) {
  std::vector<std::size_t> load(m.shard_count());
  for (std::uint64_t k : keys)
    ++load[m.shard_of(k)];
  return load;
}

// Pearson chi-square statistic of `load` against a uniform spread.
double chi_square(const std::vector<std::size_t> &load, std::size_t n) {
  const double expected = double(n) / double(load.size());
  double chi = 0;
  for (std::size_t l : load)
    chi += (double(l) - expected) * (double(l) - expected) / expected;
  return chi;
}

TEST(ShardedMapSpread, KeysDifferingOnlyInHighBitsSpread) {
  sharded_map<std::uint64_t, int> m(256);
  ASSERT_EQ(std::hash<std::uint64_t>()(12345u), 12345u)
      << "this test assumes an identity std::hash, as in libstdc++/libc++";
  for (unsigned shift : {12u, 20u, 32u, 40u, 48u, 56u}) {
    std::vector<std::uint64_t> keys;
    const std::size_t n = shift >= 56 ? 256 : 256 * 64;
    for (std::uint64_t i = 0; i < n; ++i)
      keys.push_back(i << shift);
    auto load = shard_loads(m, keys);
    const std::size_t used = std::size_t(std::count_if(
        load.begin(), load.end(), [](std::size_t l) { return l != 0; }));
    // 256 keys over 256 shards land in ~162 shards when random, 1 when the
    // low bits of the raw hash are used.
    EXPECT_GT(used, n == 256 ? 120u : 250u) << "shift " << shift;
    if (n > 256) {
      // 255 degrees of freedom: the 99.99th percentile is ~346.
      EXPECT_LT(chi_square(load, n), 400.0) << "shift " << shift;
    }
  }
}

TEST(ShardedMapSpread, ZipfKeysSpread) {
  // Zipf(0.99) ranks over 1M keys that are multiples of 4096 (like
  // page-aligned pointers); the hottest keys must be on different shards.
  const std::size_t n = 1 << 20;
  std::vector<double> cdf(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += 1.0 / std::pow(double(i + 1), 0.99);
    cdf[i] = sum;
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, sum);
  sharded_map<std::uint64_t, int> m(256);
  std::set<std::uint64_t> distinct;
  std::vector<std::uint64_t> draws;
  for (int i = 0; i < 200000; ++i) {
    std::size_t rank = std::size_t(
        std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    draws.push_back(std::uint64_t(rank) << 12);
  }
  for (std::uint64_t k : draws)
    distinct.insert(k);
  // The 64 hottest keys: ~57 distinct shards expected at random.
  std::set<std::size_t> hot_shards;
  for (std::uint64_t r = 0; r < 64; ++r)
    hot_shards.insert(m.shard_of(r << 12));
  EXPECT_GE(hot_shards.size(), 45u);
  // Distinct keys drawn spread evenly.
  std::vector<std::uint64_t> keys(distinct.begin(), distinct.end());
  auto load = shard_loads(m, keys);
  EXPECT_LT(chi_square(load, keys.size()), 400.0);
}

TEST(ShardedMapSpread, ShardOfIsConsistentWithStorage) {
  sharded_map<std::uint64_t, int> m(64);
  for (std::uint64_t k = 0; k < 1000; ++k)
    m.insert(k << 32, int(k));
  for (std::uint64_t k = 0; k < 1000; ++k)
    EXPECT_EQ(m.at(k << 32), int(k));
  EXPECT_EQ(m.size(), 1000u);
}

TEST(RwSpinlock, ExcludesWritersAndAdmitsReaders) {
  concguard::detail::rw_spinlock l;
  l.lock_shared();
  l.lock_shared(); // two readers at once
  EXPECT_FALSE(l.try_lock());
  l.unlock_shared();
  EXPECT_FALSE(l.try_lock());
  l.unlock_shared();
  EXPECT_TRUE(l.try_lock());
  EXPECT_FALSE(l.try_lock());
  l.unlock();
  l.lock();
  l.unlock();
  EXPECT_TRUE(l.try_lock());
  l.unlock();
}

// int64 keys and values take the optimistic shards (atomic tables, reads
// validated by a sequence count): every operation in lockstep with
// std::unordered_map, with few shards so that tables grow, wrap around and
// shift back on erase.
TEST(ShardedMapOptimistic, DifferentialAgainstUnorderedMap) {
  static_assert(concguard::detail::optimistic_elements<long, long>);
  static_assert(!concguard::detail::optimistic_elements<int, std::string>);
  sharded_map<long, long> m(2);
  std::unordered_map<long, long> model;
  std::mt19937_64 rng(11);
  auto same = [&] {
    auto snap = m.snapshot();
    ASSERT_EQ(snap.size(), model.size());
    for (const auto &kv : snap)
      ASSERT_EQ(model.at(kv.first), kv.second);
  };
  for (int step = 0; step < 200000; ++step) {
    const long k = long(rng() % 4000) - 100;
    const long v = long(rng() % 1000);
    switch (rng() % 16) {
    case 0:
      ASSERT_EQ(m.insert(k, v), model.emplace(k, v).second);
      break;
    case 1:
      ASSERT_EQ(m.emplace(k, v), model.emplace(k, v).second);
      break;
    case 2:
      ASSERT_EQ(m.try_emplace(k, v), model.try_emplace(k, v).second);
      break;
    case 3:
    case 4:
      ASSERT_EQ(m.insert_or_assign(k, v), model.insert_or_assign(k, v).second);
      break;
    case 5:
    case 6:
      ASSERT_EQ(m.erase(k), model.erase(k));
      break;
    case 7: {
      auto g = m.get(k);
      auto it = model.find(k);
      ASSERT_EQ(g.has_value(), it != model.end());
      if (g) {
        ASSERT_EQ(*g, it->second);
      }
      ASSERT_EQ(m.contains(k), it != model.end());
      ASSERT_EQ(m.count(k), model.count(k));
      if (it != model.end()) {
        ASSERT_EQ(m.at(k), it->second);
      } else {
        ASSERT_THROW((void)m.at(k), std::out_of_range);
      }
      break;
    }
    case 8: {
      long seen = -1;
      const bool found = m.visit(k, [&](const long &x) { seen = x; });
      ASSERT_EQ(found, model.count(k) == 1);
      if (found) {
        ASSERT_EQ(seen, model.at(k));
      }
      break;
    }
    case 9:
      ASSERT_EQ(m.update(k, [&](long &x) { x += v; }), model.count(k) == 1);
      if (model.count(k))
        model[k] += v;
      break;
    case 10:
      m.upsert(k, [&](long &x) { x = x * 2 + 1; });
      model[k] = model[k] * 2 + 1;
      break;
    case 11:
      ASSERT_EQ(m.get_or_insert_default(k), model[k]);
      break;
    case 12:
      if (rng() % 200 == 0) {
        const long mod = long(rng() % 5) + 2;
        std::size_t expected = 0;
        for (auto it = model.begin(); it != model.end();)
          if (it->second % mod == 0) {
            it = model.erase(it);
            ++expected;
          } else {
            ++it;
          }
        ASSERT_EQ(m.erase_if([&](const long &, const long &x) {
          return x % mod == 0;
        }),
                  expected);
      }
      break;
    case 13:
      if (rng() % 200 == 0) {
        m.for_each_mut([](const long &key, long &x) { x ^= key & 7; });
        for (auto &kv : model)
          kv.second ^= kv.first & 7;
      }
      break;
    case 14:
      if (rng() % 500 == 0) {
        sharded_map<long, long> copy(m);
        copy.insert_or_assign(k, -1);
        same();
        sharded_map<long, long> assigned(8);
        assigned = copy;
        ASSERT_EQ(assigned.get(k), std::optional<long>(-1));
        ASSERT_EQ(assigned.size(), copy.size());
      }
      break;
    default:
      if (rng() % 3000 == 0) {
        m.clear();
        model.clear();
      } else if (rng() % 500 == 0) {
        m.reserve(rng() % 20000);
      }
    }
    ASSERT_EQ(m.size(), model.size());
    ASSERT_EQ(m.empty(), model.empty());
    if (step % 4096 == 0)
      same();
  }
  same();
  std::size_t n = 0;
  m.for_each([&](const long &key, const long &x) {
    ++n;
    EXPECT_EQ(model.at(key), x);
  });
  EXPECT_EQ(n, model.size());
}

TEST(ShardedMapOptimistic, SeqLockValidationFailsAcrossAWrite) {
  concguard::detail::seq_lock lock;
  const std::uint32_t before = lock.read_begin();
  EXPECT_EQ(before % 2, 0u);
  EXPECT_TRUE(lock.read_validate(before)); // nothing written
  lock.lock();
  const std::uint32_t during = lock.read_begin();
  EXPECT_EQ(during % 2, 1u); // a reader seeing this retries
  EXPECT_FALSE(lock.read_validate(before));
  lock.unlock();
  EXPECT_FALSE(lock.read_validate(before));
  EXPECT_FALSE(lock.read_validate(during));
  EXPECT_TRUE(lock.read_validate(lock.read_begin()));
}

//===-- The API other concurrent maps' users expect (issue 20) -----------===//

template <class V> V val(int x) {
  if constexpr (std::is_same_v<V, std::string>)
    return std::to_string(x);
  else
    return V(x);
}

/// Every addition, on a map type M<int, V> (sharded_map with basic or
/// optimistic shards, snapshot_map).
template <class M> void expect_extended_api() {
  using V = typename M::mapped_type;
  M m;
  for (int i = 0; i < 100; ++i)
    m.insert(i, val<V>(i));

  // Visitors that take the key as well.
  int seen_key = -1;
  EXPECT_TRUE(m.visit(7, [&](const int &k, const V &v) {
    seen_key = k;
    EXPECT_EQ(v, val<V>(7));
  }));
  EXPECT_EQ(seen_key, 7);
  EXPECT_TRUE(m.cvisit(8, [&](const V &v) { EXPECT_EQ(v, val<V>(8)); }));
  EXPECT_FALSE(m.cvisit(1000, [](const V &) { FAIL(); }));
  EXPECT_TRUE(m.update(9, [](const int &k, V &v) { v = val<V>(k * 2); }));
  EXPECT_EQ(m.at(9), val<V>(18));
  m.upsert(500, [](const int &k, V &v) { v = val<V>(k + 1); });
  EXPECT_EQ(m.at(500), val<V>(501));

  // Early stop.
  int calls = 0;
  EXPECT_FALSE(m.visit_while([&](const int &, const V &) {
    ++calls;
    return calls < 5;
  }));
  EXPECT_EQ(calls, 5);
  calls = 0;
  m.for_each([&](const int &, const V &) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_TRUE(m.visit_while([&](const int &, const V &) {
    ++calls;
    return true;
  }));
  EXPECT_EQ(calls, 101);
  calls = 0;
  m.visit_all([&](const int &, const V &) { ++calls; });
  EXPECT_EQ(calls, 101);

  // insert_or_visit / insert_or_cvisit.
  EXPECT_TRUE(m.insert_or_visit(200, val<V>(1), [](V &) { FAIL(); }));
  EXPECT_FALSE(m.insert_or_visit(200, val<V>(2), [](V &v) { v = val<V>(3); }));
  EXPECT_EQ(m.at(200), val<V>(3));
  V seen{};
  EXPECT_FALSE(
      m.insert_or_cvisit(200, val<V>(4), [&](const V &v) { seen = v; }));
  EXPECT_EQ(seen, val<V>(3));
  EXPECT_TRUE(m.insert_or_cvisit(201, val<V>(4), [](const V &) { FAIL(); }));
  EXPECT_EQ(m.at(201), val<V>(4));

  // Per-key erase_if.
  EXPECT_EQ(m.erase_if(10, [](const V &v) { return v == val<V>(99); }), 0u);
  EXPECT_TRUE(m.contains(10));
  EXPECT_EQ(m.erase_if(10, [](const int &k, const V &) { return k == 10; }),
            1u);
  EXPECT_FALSE(m.contains(10));
  EXPECT_EQ(m.erase_if(10, [](const V &) { return true; }), 0u);

  // Go's sync.Map.
  EXPECT_EQ(m.load_or_store(11, val<V>(0)), std::make_pair(val<V>(11), true));
  EXPECT_EQ(m.load_or_store(300, val<V>(30)),
            std::make_pair(val<V>(30), false));
  EXPECT_EQ(m.at(300), val<V>(30));
  EXPECT_EQ(m.load_and_delete(300), std::optional<V>(val<V>(30)));
  EXPECT_FALSE(m.contains(300));
  EXPECT_EQ(m.load_and_delete(300), std::nullopt);
  EXPECT_FALSE(m.compare_and_swap(12, val<V>(0), val<V>(1)));
  EXPECT_EQ(m.at(12), val<V>(12));
  EXPECT_TRUE(m.compare_and_swap(12, val<V>(12), val<V>(1)));
  EXPECT_EQ(m.at(12), val<V>(1));
  EXPECT_FALSE(m.compare_and_swap(400, val<V>(0), val<V>(1)));
  EXPECT_FALSE(m.contains(400));
  // folly's name for it.
  EXPECT_FALSE(m.assign_if_equal(12, val<V>(12), val<V>(5)));
  EXPECT_TRUE(m.assign_if_equal(12, val<V>(1), val<V>(5)));
  EXPECT_EQ(m.at(12), val<V>(5));

  // emplace_or_visit(key, value args..., visitor): the last argument is the
  // visitor, the others construct the value only if the key is absent.
  EXPECT_TRUE(m.emplace_or_visit(600, val<V>(6), [](V &) { FAIL(); }));
  EXPECT_EQ(m.at(600), val<V>(6));
  EXPECT_FALSE(m.emplace_or_visit(600, val<V>(7), [](const int &k, V &v) {
    EXPECT_EQ(k, 600);
    v = val<V>(8);
  }));
  EXPECT_EQ(m.at(600), val<V>(8));
  V cseen{};
  EXPECT_FALSE(
      m.emplace_or_cvisit(600, val<V>(9), [&](const V &v) { cseen = v; }));
  EXPECT_EQ(cseen, val<V>(8));
  EXPECT_EQ(m.at(600), val<V>(8));
  EXPECT_TRUE(m.emplace_or_cvisit(601, val<V>(9), [](const V &) { FAIL(); }));
  EXPECT_EQ(m.at(601), val<V>(9));
}

TEST(ShardedMapApi, OptimisticShards) {
  static_assert(concguard::detail::optimistic_elements<int, long>);
  expect_extended_api<sharded_map<int, long>>();
}
TEST(ShardedMapApi, BasicShards) {
  expect_extended_api<sharded_map<int, std::string>>();
}
TEST(ShardedMapApi, SnapshotMap) {
  expect_extended_api<concguard::snapshot_map<int, std::string>>();
  expect_extended_api<concguard::snapshot_map<int, long>>();
}

/// compare_and_swap as a lock-free-looking counter from 4 threads: every
/// increment lands exactly once.
template <class M> void expect_cas_counts_exactly() {
  M m;
  m.insert(0, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        for (;;) {
          const long cur = m.at(0);
          if (m.compare_and_swap(0, cur, cur + 1))
            break;
        }
    });
  for (auto &th : pool)
    th.join();
  EXPECT_EQ(m.at(0), 8000);
}
/// emplace_or_visit forwards several constructor arguments, and leaves an
/// rvalue argument untouched when the key is present.
template <class M> void expect_emplace_or_visit_arguments() {
  M m;
  EXPECT_TRUE(m.emplace_or_visit(1, 3u, 'x', [](std::string &) { FAIL(); }));
  EXPECT_EQ(m.at(1), "xxx");
  std::string kept = "kept";
  EXPECT_FALSE(
      m.emplace_or_visit(1, std::move(kept), [](std::string &v) { v += "!"; }));
  EXPECT_EQ(kept, "kept");
  EXPECT_EQ(m.at(1), "xxx!");
}
TEST(ShardedMapApi, EmplaceOrVisitArguments) {
  expect_emplace_or_visit_arguments<Map>();
  expect_emplace_or_visit_arguments<
      concguard::snapshot_map<int, std::string>>();
}

//===-- Heterogeneous lookup
//------------------------------------------------===//

/// A string key that counts how many times one is constructed, so that a
/// test can show a lookup by std::string_view builds none.
struct counted_key {
  static inline int constructed = 0;
  std::string text;
  explicit counted_key(std::string_view s) : text(s) { ++constructed; }
  counted_key(const counted_key &o) : text(o.text) { ++constructed; }
  counted_key(counted_key &&o) noexcept : text(std::move(o.text)) {
    ++constructed;
  }
  counted_key &operator=(const counted_key &) = default;
  counted_key &operator=(counted_key &&) noexcept = default;
};
std::string_view view_of(const counted_key &k) { return k.text; }
std::string_view view_of(std::string_view s) { return s; }
struct text_hash {
  using is_transparent = void;
  template <class T> std::size_t operator()(const T &k) const {
    return std::hash<std::string_view>()(view_of(k));
  }
};
struct text_equal {
  using is_transparent = void;
  template <class A, class B> bool operator()(const A &a, const B &b) const {
    return view_of(a) == view_of(b);
  }
};

template <class M> void expect_lookup_by_view_builds_no_key() {
  using V = typename M::mapped_type;
  M m;
  for (int i = 0; i < 50; ++i)
    m.insert(counted_key("k" + std::to_string(i)), V(i));
  const int before = counted_key::constructed;
  const std::string_view k7 = "k7";
  EXPECT_EQ(m.get(k7), std::optional<V>(V(7)));
  EXPECT_EQ(m.get(std::string_view("nope")), std::nullopt);
  EXPECT_EQ(m.at(k7), V(7));
  EXPECT_THROW(m.at(std::string_view("nope")), std::out_of_range);
  EXPECT_TRUE(m.contains(k7));
  EXPECT_EQ(m.count(std::string_view("nope")), 0u);
  std::string seen_key;
  EXPECT_TRUE(m.visit(k7, [&](const counted_key &k, const V &v) {
    seen_key = k.text;
    EXPECT_EQ(v, V(7));
  }));
  EXPECT_EQ(seen_key, "k7");
  EXPECT_TRUE(m.cvisit(k7, [](const V &v) { EXPECT_EQ(v, V(7)); }));
  EXPECT_EQ(counted_key::constructed, before);
}

template <class M> void expect_writes_by_view() {
  using V = typename M::mapped_type;
  M m;
  for (int i = 0; i < 50; ++i)
    m.insert(counted_key("k" + std::to_string(i)), V(i));
  const int before = counted_key::constructed;
  EXPECT_TRUE(m.update(std::string_view("k8"), [](V &v) { v = V(80); }));
  EXPECT_FALSE(m.update(std::string_view("nope"), [](V &) { FAIL(); }));
  EXPECT_EQ(m.erase(std::string_view("k9")), 1u);
  EXPECT_EQ(m.erase(std::string_view("k9")), 0u);
  EXPECT_EQ(
      m.erase_if(std::string_view("k10"), [](const V &v) { return v == V(0); }),
      0u);
  EXPECT_EQ(m.erase_if(std::string_view("k10"),
                       [](const counted_key &k, const V &) {
                         return k.text == "k10";
                       }),
            1u);
  EXPECT_EQ(m.load_and_delete(std::string_view("k11")),
            std::optional<V>(V(11)));
  EXPECT_EQ(m.load_and_delete(std::string_view("k11")), std::nullopt);
  // erase and erase_if move the removed element out of the table (to
  // destroy it after the lock is released): one K move each. No K is built
  // from a string_view.
  EXPECT_EQ(counted_key::constructed, before + 2);
  EXPECT_EQ(m.get(std::string_view("k8")), std::optional<V>(V(80)));
  EXPECT_EQ(m.size(), 47u);
}

TEST(ShardedMapHeterogeneous, LookupByViewBuildsNoKey) {
  // counted_key moves without throwing: flat-table shards.
  using M = sharded_map<counted_key, int, text_hash, text_equal>;
  expect_lookup_by_view_builds_no_key<M>();
  expect_writes_by_view<M>();
  using S = concguard::snapshot_map<
      counted_key, int,
      concguard::persistent_map<counted_key, int, text_hash, text_equal>>;
  expect_lookup_by_view_builds_no_key<S>();
}

/// Optimistic shards: keys are small trivially copyable; look up by a
/// wrapper type the transparent functors accept.
struct id_view {
  long id;
};
struct id_hash {
  using is_transparent = void;
  std::size_t operator()(long k) const { return std::hash<long>()(k); }
  std::size_t operator()(id_view k) const { return std::hash<long>()(k.id); }
};
struct id_equal {
  using is_transparent = void;
  static long of(long k) { return k; }
  static long of(id_view k) { return k.id; }
  template <class A, class B> bool operator()(A a, B b) const {
    return of(a) == of(b);
  }
};
TEST(ShardedMapHeterogeneous, OptimisticShards) {
  using M = sharded_map<long, long, id_hash, id_equal>;
  static_assert(concguard::detail::optimistic_elements<long, long>);
  M m;
  for (long i = 0; i < 100; ++i)
    m.insert(i, i * 10);
  EXPECT_EQ(m.get(id_view{7}), std::optional<long>(70));
  EXPECT_EQ(m.get(id_view{700}), std::nullopt);
  EXPECT_EQ(m.at(id_view{8}), 80);
  EXPECT_TRUE(m.contains(id_view{9}));
  EXPECT_EQ(m.count(id_view{900}), 0u);
  long seen = -1;
  EXPECT_TRUE(m.visit(id_view{10}, [&](const long &k, const long &v) {
    seen = k;
    EXPECT_EQ(v, 100);
  }));
  EXPECT_EQ(seen, 10);
  EXPECT_TRUE(m.update(id_view{11}, [](long &v) { ++v; }));
  EXPECT_EQ(m.at(11), 111);
  EXPECT_EQ(m.erase(id_view{12}), 1u);
  EXPECT_EQ(m.erase_if(id_view{13}, [](long v) { return v == 130; }), 1u);
  EXPECT_EQ(m.load_and_delete(id_view{14}), std::optional<long>(140));
  EXPECT_EQ(m.size(), 97u);
}

/// Without transparent functors, an argument that converts to K still goes
/// through the K overload (the rewriter's `m.get("literal")` keeps working).
TEST(ShardedMapHeterogeneous, ConvertingArgumentsStillWork) {
  sharded_map<std::string, int> m;
  m.insert("a", 1);
  EXPECT_EQ(m.get("a"), std::optional<int>(1));
  EXPECT_TRUE(m.contains("a"));
  EXPECT_EQ(m.erase("a"), 1u);
  concguard::snapshot_map<std::string, int> s;
  s.insert("a", 1);
  EXPECT_EQ(s.get("a"), std::optional<int>(1));
}

//===-- Move, swap, allocator
//----------------------------------------------===//

/// A value that counts its copies.
struct copy_counted {
  static inline int copies = 0;
  int v = 0;
  copy_counted() = default;
  explicit copy_counted(int x) : v(x) {}
  copy_counted(const copy_counted &o) : v(o.v) { ++copies; }
  copy_counted(copy_counted &&o) noexcept : v(o.v) {}
  copy_counted &operator=(const copy_counted &o) {
    v = o.v;
    ++copies;
    return *this;
  }
  copy_counted &operator=(copy_counted &&o) noexcept {
    v = o.v;
    return *this;
  }
  friend bool operator==(const copy_counted &a, const copy_counted &b) {
    return a.v == b.v;
  }
};

TEST(ShardedMapMove, MoveTakesTheShardsWithoutCopying) {
  sharded_map<int, copy_counted> a(16);
  for (int i = 0; i < 1000; ++i)
    a.insert(i, copy_counted(i));
  copy_counted::copies = 0;
  sharded_map<int, copy_counted> b(std::move(a));
  EXPECT_EQ(copy_counted::copies, 0);
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b.shard_count(), 16u);
  // The moved-from map is empty and usable, with the same shard count.
  EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.shard_count(), 16u);
  a.insert(5, copy_counted(55));
  EXPECT_EQ(a.get(5)->v, 55);
  EXPECT_EQ(b.get(5)->v, 5);

  sharded_map<int, copy_counted> c(4);
  c.insert(1, copy_counted(1));
  copy_counted::copies = 0;
  c = std::move(b);
  EXPECT_EQ(copy_counted::copies, 0);
  EXPECT_EQ(c.size(), 1000u);
  EXPECT_EQ(c.shard_count(), 16u);
  EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move)
}

template <class M> void expect_swap_exchanges_contents() {
  using V = typename M::mapped_type;
  M a(8), b(32);
  for (int i = 0; i < 100; ++i)
    a.insert(i, V(1));
  b.insert(1000, V(2));
  swap(a, b);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.shard_count(), 32u);
  EXPECT_EQ(a.get(1000), std::optional<V>(V(2)));
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(b.shard_count(), 8u);
  b.swap(a);
  EXPECT_EQ(a.size(), 100u);
  M moved(std::move(a));
  EXPECT_EQ(moved.size(), 100u);
  EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move)
  a.insert(1, V(1));
  EXPECT_EQ(a.size(), 1u);
}
TEST(ShardedMapMove, SwapExchangesContents) {
  expect_swap_exchanges_contents<sharded_map<int, long>>(); // optimistic
  expect_swap_exchanges_contents<sharded_map<int, copy_counted>>(); // basic
}
TEST(SnapshotMapSwap, ExchangesCurrentSnapshots) {
  concguard::snapshot_map<int, std::string> a{{1, "a"}}, b{{2, "b"}, {3, "c"}};
  auto held = a.snapshot();
  swap(a, b);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.get(1), std::optional<std::string>("a"));
  EXPECT_EQ(held->size(), 1u); // snapshots are unchanged by the swap
  a.swap(a);                   // no-op, no deadlock
  EXPECT_EQ(a.size(), 2u);
}

/// A stateful allocator that counts the bytes it has outstanding.
template <class T> struct counting_allocator {
  using value_type = T;
  std::shared_ptr<long> live;
  explicit counting_allocator(std::shared_ptr<long> l) : live(std::move(l)) {}
  template <class U>
  counting_allocator(const counting_allocator<U> &o) // NOLINT: implicit
      : live(o.live) {}
  T *allocate(std::size_t n) {
    *live += static_cast<long>(n * sizeof(T));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T *p, std::size_t n) {
    *live -= static_cast<long>(n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U> bool operator==(const counting_allocator<U> &o) const {
    return live == o.live;
  }
  template <class U> bool operator!=(const counting_allocator<U> &o) const {
    return live != o.live;
  }
};

/// A value whose move may throw: node-table shards.
struct throwing_move {
  std::string s;
  throwing_move() = default;
  explicit throwing_move(int x) : s(std::to_string(x)) {}
  throwing_move(const throwing_move &) = default;
  throwing_move(throwing_move &&o) noexcept(false) : s(o.s) {}
  throwing_move &operator=(const throwing_move &) = default;
};

template <class V> void expect_every_byte_through_the_allocator() {
  using A = counting_allocator<std::pair<const int, V>>;
  auto live = std::make_shared<long>(0);
  {
    sharded_map<int, V, std::hash<int>, std::equal_to<int>, A> m(8, {}, {},
                                                                 A(live));
    const long empty = *live;
    EXPECT_GT(empty, 0); // the shard array
    for (int i = 0; i < 5000; ++i)
      m.insert(i, V(i));
    EXPECT_GT(*live, empty); // the tables
    EXPECT_TRUE(m.get_allocator() == A(live));
    auto copy = m;
    EXPECT_TRUE(copy.get_allocator() == A(live));
    auto moved = std::move(copy);
    m.erase_if([](const int &k, const V &) { return k % 2 == 0; });
    m.clear();
  }
  EXPECT_EQ(*live, 0); // everything given back
}
TEST(ShardedMapAllocator, EveryByteGoesThroughIt) {
  expect_every_byte_through_the_allocator<long>();          // optimistic
  expect_every_byte_through_the_allocator<copy_counted>();  // flat table
  expect_every_byte_through_the_allocator<throwing_move>(); // node table
}

TEST(ShardedMapApi, CompareAndSwapFromThreads) {
  expect_cas_counts_exactly<sharded_map<int, long>>();
  expect_cas_counts_exactly<concguard::snapshot_map<int, long>>();
}

} // namespace
