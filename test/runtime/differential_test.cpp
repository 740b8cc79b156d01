// Randomized differential test: every operation of sharded_map and
// snapshot_map is applied in lockstep to std::unordered_map (the model), on
// one thread, and every result and the full contents are compared.
//
// CONCGUARD_DIFF_SEED=<n> replays one seed; CONCGUARD_DIFF_OPS=<n> changes
// the operation count (default 150000 per configuration).
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using Key = std::int64_t;

/// A string whose move constructor may throw: sharded_map then stores
/// elements in node-based tables instead of its open-addressing table, so
/// the differential test covers both.
struct throwing_move_string : std::string {
  using std::string::string;
  throwing_move_string() = default;
  throwing_move_string(const throwing_move_string &) = default;
  throwing_move_string(throwing_move_string &&o) noexcept(false)
      : std::string(std::move(static_cast<std::string &>(o))) {}
  throwing_move_string &operator=(const throwing_move_string &) = default;
  throwing_move_string &operator=(throwing_move_string &&) = default;
};
static_assert(!std::is_nothrow_move_constructible_v<throwing_move_string>);
static_assert(std::is_nothrow_move_constructible_v<std::string>);

std::uint64_t env_or(const char *name, std::uint64_t fallback) {
  const char *v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

template <class M> constexpr bool is_sharded = false;
template <class K, class V, class H, class E>
constexpr bool is_sharded<concguard::sharded_map<K, V, H, E>> = true;

template <class Value>
std::vector<std::pair<Key, Value>>
sorted(std::vector<std::pair<Key, Value>> v) {
  std::sort(v.begin(), v.end());
  return v;
}

template <class Value>
std::vector<std::pair<Key, Value>>
contents(const std::unordered_map<Key, Value> &m) {
  return sorted(std::vector<std::pair<Key, Value>>(m.begin(), m.end()));
}

template <class M>
std::vector<std::pair<Key, typename M::mapped_type>> contents_of(const M &m) {
  using Value = typename M::mapped_type;
  if constexpr (is_sharded<M>) {
    return sorted(m.snapshot());
  } else {
    auto s = m.snapshot();
    return sorted(std::vector<std::pair<Key, Value>>(s->begin(), s->end()));
  }
}

/// Runs `ops` random operations on `m` and on a model; counts in `executed`
/// the operations of each kind (so the test can check that all ran).
template <class M>
void run_differential(M &m, std::uint64_t seed, std::size_t ops,
                      std::vector<std::size_t> &executed) {
  using Value = typename M::mapped_type;
  std::unordered_map<Key, Value> model;
  std::mt19937_64 rng(seed);
  // A small key range: plenty of hits and misses. Occasionally a key far out
  // (high bits set) to exercise the shard hash.
  auto random_key = [&]() -> Key {
    std::uint64_t r = rng();
    Key k = Key(r % 600);
    if ((r >> 20) % 16 == 0)
      k += Key(1) << 40;
    return k;
  };
  auto random_value = [&]() -> Value {
    return Value(rng() % 40, char('a' + rng() % 26));
  };
  enum Op {
    Get,
    At,
    Contains,
    Count,
    Visit,
    Update,
    Upsert,
    GetOrInsertDefault,
    Insert,
    Emplace,
    TryEmplace,
    InsertOrAssign,
    Erase,
    EraseIf,
    Clear,
    Size,
    Empty,
    Reserve,
    ForEach,
    ForEachMut,
    Snapshot,
    Batch,
    EmplaceOrVisit,
    EmplaceOrCvisit,
    AssignIfEqual,
    MoveOrSwap,
    NumOps
  };
  executed.assign(NumOps, 0);
  // Weights: destructive whole-map operations are rare so the map grows.
  const unsigned weight[NumOps] = {10, 6, 6, 4, 8, 6, 6, 5, 8, 4, 4, 6, 6,
                                   1,  1, 3, 2, 1, 1, 1, 1, 2, 4, 2, 4, 1};
  unsigned total = 0;
  for (unsigned w : weight)
    total += w;

  for (std::size_t step = 0; step < ops; ++step) {
    unsigned pick = unsigned(rng() % total);
    int op = 0;
    while (pick >= weight[op])
      pick -= weight[op++];
    if (op == Clear && rng() % 8 != 0)
      op = Size; // clears are very rare
    const Key k = random_key();
    ++executed[op];
    SCOPED_TRACE("step " + std::to_string(step) + " op " + std::to_string(op) +
                 " key " + std::to_string(k));
    auto it = model.find(k);
    const bool present = it != model.end();
    switch (op) {
    case Get: {
      std::optional<Value> got = m.get(k);
      ASSERT_EQ(got.has_value(), present);
      if (present)
        ASSERT_EQ(*got, it->second);
      break;
    }
    case At:
      if (present) {
        ASSERT_EQ(m.at(k), it->second);
      } else {
        ASSERT_THROW(m.at(k), std::out_of_range);
      }
      break;
    case Contains:
      ASSERT_EQ(m.contains(k), present);
      break;
    case Count:
      ASSERT_EQ(m.count(k), present ? 1u : 0u);
      break;
    case Visit: {
      Value seen = "<not called>";
      ASSERT_EQ(m.visit(k, [&](const Value &v) { seen = v; }), present);
      ASSERT_EQ(seen, present ? it->second : Value("<not called>"));
      break;
    }
    case Update: {
      const char c = char('A' + rng() % 26);
      ASSERT_EQ(m.update(k, [&](Value &v) { v.push_back(c); }), present);
      if (present)
        it->second.push_back(c);
      break;
    }
    case Upsert: {
      const char c = char('A' + rng() % 26);
      m.upsert(k, [&](Value &v) { v.push_back(c); });
      model[k].push_back(c);
      break;
    }
    case GetOrInsertDefault:
      ASSERT_EQ(m.get_or_insert_default(k), model[k]);
      break;
    case Insert: {
      Value v = random_value();
      ASSERT_EQ(m.insert(k, v), !present);
      model.emplace(k, v);
      break;
    }
    case Emplace: {
      const std::size_t n = rng() % 10;
      const char c = char('a' + rng() % 26);
      ASSERT_EQ(m.emplace(k, n, c), !present);
      model.try_emplace(k, n, c);
      break;
    }
    case TryEmplace: {
      Value v = random_value();
      ASSERT_EQ(m.try_emplace(k, v), !present);
      model.try_emplace(k, v);
      break;
    }
    case InsertOrAssign: {
      Value v = random_value();
      ASSERT_EQ(m.insert_or_assign(k, v), !present);
      model.insert_or_assign(k, v);
      break;
    }
    case Erase:
      ASSERT_EQ(m.erase(k), model.erase(k));
      break;
    case EraseIf: {
      const Key mod = Key(7 + rng() % 13), rem = Key(rng() % 7);
      auto pred = [&](const Key &key, const Value &v) {
        return (key % mod == rem) && v.size() % 2 == 0;
      };
      std::size_t expected = 0;
      for (auto i = model.begin(); i != model.end();)
        if (pred(i->first, i->second)) {
          i = model.erase(i);
          ++expected;
        } else {
          ++i;
        }
      ASSERT_EQ(m.erase_if(pred), expected);
      break;
    }
    case Clear:
      m.clear();
      model.clear();
      break;
    case Size:
      ASSERT_EQ(m.size(), model.size());
      break;
    case Empty:
      ASSERT_EQ(m.empty(), model.empty());
      break;
    case Reserve:
      if constexpr (is_sharded<M>) {
        m.reserve(rng() % 5000);
      } else {
        --executed[op];
        ++executed[Batch];
        // snapshot_map has no reserve; batch-update instead (below).
        m.update([&](auto &mm) {
          mm.erase(k);
          mm[k + 1] += "z";
        });
        model.erase(k);
        model[k + 1] += "z";
      }
      break;
    case ForEach: {
      std::size_t n = 0;
      std::size_t total_len = 0;
      m.for_each([&](const Key &key, const Value &v) {
        ++n;
        total_len += v.size();
        auto mi = model.find(key);
        ASSERT_NE(mi, model.end());
        ASSERT_EQ(mi->second, v);
      });
      ASSERT_EQ(n, model.size());
      std::size_t expected_len = 0;
      for (const auto &kv : model)
        expected_len += kv.second.size();
      ASSERT_EQ(total_len, expected_len);
      break;
    }
    case ForEachMut: {
      m.for_each_mut([](const Key &key, Value &v) {
        if (key % 3 == 0)
          v += "#";
      });
      for (auto &kv : model)
        if (kv.first % 3 == 0)
          kv.second += "#";
      break;
    }
    case Snapshot:
      ASSERT_EQ(contents_of(m), contents(model));
      break;
    case Batch:
      if constexpr (is_sharded<M>) {
        // sharded_map has no batch: a copy-construct round trip instead.
        M copy(m);
        ASSERT_EQ(contents_of(copy), contents(model));
        copy.insert_or_assign(k, "copy-only");
        ASSERT_EQ(contents_of(m), contents(model));
      } else {
        m.update([&](auto &mm) {
          for (Key d = 0; d < 4; ++d)
            mm[k + d] += "b";
        });
        for (Key d = 0; d < 4; ++d)
          model[k + d] += "b";
      }
      break;
    case EmplaceOrVisit: {
      const std::size_t n = rng() % 10;
      const char c = char('a' + rng() % 26);
      ASSERT_EQ(m.emplace_or_visit(k, n, c,
                                   [&](const Key &key, Value &v) {
                                     ASSERT_EQ(key, k);
                                     v.push_back(c);
                                   }),
                !present);
      if (present)
        it->second.push_back(c);
      else
        model.try_emplace(k, n, c);
      break;
    }
    case EmplaceOrCvisit: {
      Value seen = "<not called>";
      Value v = random_value();
      ASSERT_EQ(
          m.emplace_or_cvisit(k, v, [&](const Value &cur) { seen = cur; }),
          !present);
      ASSERT_EQ(seen, present ? it->second : Value("<not called>"));
      model.try_emplace(k, v);
      break;
    }
    case AssignIfEqual: {
      // Half the time the expected value is the present one.
      const Value expected =
          present && rng() % 2 == 0 ? it->second : random_value();
      const Value desired = random_value();
      const bool equal = present && it->second == expected;
      ASSERT_EQ(m.assign_if_equal(k, expected, desired), equal);
      if (equal)
        it->second = desired;
      break;
    }
    case MoveOrSwap: {
      // Hand the contents to another map and back: nothing may be lost.
      M other;
      swap(m, other);
      ASSERT_TRUE(m.empty());
      ASSERT_EQ(contents_of(other), contents(model));
      if constexpr (is_sharded<M>) {
        M moved(std::move(other));
        ASSERT_TRUE(other.empty()); // NOLINT(bugprone-use-after-move)
        m = std::move(moved);
      } else {
        m.swap(other);
      }
      ASSERT_EQ(contents_of(m), contents(model));
      break;
    }
    default:
      FAIL() << "unknown op";
    }
    if (step % 4096 == 0)
      ASSERT_EQ(contents_of(m), contents(model));
  }
  EXPECT_EQ(contents_of(m), contents(model));
  EXPECT_EQ(m.size(), model.size());
}

class Differential : public ::testing::TestWithParam<std::uint64_t> {};

std::size_t op_count() { return env_or("CONCGUARD_DIFF_OPS", 150000); }

void expect_every_op_ran(const std::vector<std::size_t> &executed,
                         std::size_t skip = ~std::size_t(0)) {
  for (std::size_t i = 0; i < executed.size(); ++i)
    if (i != skip)
      EXPECT_GT(executed[i], 0u) << "operation " << i << " never ran";
}

TEST_P(Differential, ShardedMapDefaultShards) {
  concguard::sharded_map<Key, std::string> m;
  std::vector<std::size_t> executed;
  run_differential(m, GetParam(), op_count(), executed);
  expect_every_op_ran(executed);
}

TEST_P(Differential, ShardedMapOneShard) {
  concguard::sharded_map<Key, std::string> m(1);
  std::vector<std::size_t> executed;
  run_differential(m, GetParam() + 1000, op_count() / 3, executed);
  expect_every_op_ran(executed);
}

TEST_P(Differential, ShardedMapManyShards) {
  concguard::sharded_map<Key, std::string> m(1024);
  std::vector<std::size_t> executed;
  run_differential(m, GetParam() + 2000, op_count() / 3, executed);
  expect_every_op_ran(executed);
}

TEST_P(Differential, ShardedMapNodeTables) {
  concguard::sharded_map<Key, throwing_move_string> m(16);
  std::vector<std::size_t> executed;
  run_differential(m, GetParam() + 4000, op_count() / 3, executed);
  expect_every_op_ran(executed);
}

TEST_P(Differential, SnapshotMap) {
  concguard::snapshot_map<Key, std::string> m;
  std::vector<std::size_t> executed;
  run_differential(m, GetParam() + 3000, op_count(), executed);
  expect_every_op_ran(executed, /*Reserve, replaced by a batch*/ 17);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Differential,
                         ::testing::Values(env_or("CONCGUARD_DIFF_SEED", 1)));

} // namespace
