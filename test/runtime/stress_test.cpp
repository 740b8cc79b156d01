// Multi-threaded stress tests, meant to run under ThreadSanitizer (built at
// -O1 and at -O0 -g) and also run plain. Several threads mix every
// operation; invariants are checked while running (values never torn,
// snapshots always consistent) and exactly at the end (counters add up,
// each thread's own keys equal its private model).
//
// CONCGUARD_STRESS_SCALE=<percent> scales the operation counts (default 100).
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr int threads = 4;

long scaled(long n) {
  const char *v = std::getenv("CONCGUARD_STRESS_SCALE");
  const long pct = v != nullptr ? std::strtol(v, nullptr, 10) : 100;
  return n * pct / 100 > 0 ? n * pct / 100 : 1;
}

/// A value whose two halves are always written together: a reader that sees
/// b != -a saw a torn write (a broken lock).
struct rec {
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::string pad; // heap-allocated when long: ASan/TSan see its accesses
  rec() = default;
  explicit rec(std::int64_t x)
      : a(x), b(-x), pad(std::size_t(x % 7) * 9, 'p') {}
  bool consistent() const { return b == -a; }
  void add(std::int64_t d) {
    a += d;
    b -= d;
  }
  friend bool operator==(const rec &l, const rec &r) {
    return l.a == r.a && l.b == r.b && l.pad == r.pad;
  }
};

/// Starts `n` threads that wait for each other before running `body(t)`.
template <class F> void run_threads(int n, F body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < n)
        std::this_thread::yield();
      body(t);
    });
  for (auto &th : pool)
    th.join();
}

//===-- sharded_map ------------------------------------------------------===//

using SMap = concguard::sharded_map<std::int64_t, rec>;
constexpr std::int64_t shared_keys = 64;
constexpr std::int64_t owned_keys = 300;
std::int64_t owned_base(int t) { return 1000 + t * 1000; }

TEST(ShardedMapStress, EveryOperationMixedWithExactAccounting) {
  SMap m(16); // few shards: more contention per shard
  for (std::int64_t k = 0; k < shared_keys; ++k)
    m.insert(k, rec(0));

  std::atomic<std::int64_t> increments{0}; // expected sum of shared .a
  std::atomic<long> torn{0}, failures{0};
  std::vector<std::map<std::int64_t, rec>> models(threads);
  const long ops = scaled(30000);

  run_threads(threads, [&](int t) {
    std::mt19937_64 rng(std::uint64_t(t) * 7919 + 1);
    auto &model = models[t];
    const std::int64_t base = owned_base(t);
    auto fail = [&] { failures.fetch_add(1); };
    for (long i = 0; i < ops; ++i) {
      const std::uint64_t r = rng();
      const std::int64_t sk = std::int64_t(r % shared_keys);
      const std::int64_t ok = base + std::int64_t((r >> 8) % owned_keys);
      const std::int64_t x = std::int64_t((r >> 20) % 1000);
      auto mi = model.find(ok);
      const bool present = mi != model.end();
      switch ((r >> 40) % 24) {
      // --- shared keys: commutative increments and reads
      case 0:
        m.upsert(sk, [](rec &v) { v.add(1); });
        increments.fetch_add(1);
        break;
      case 1:
        if (m.update(sk, [](rec &v) { v.add(2); }))
          increments.fetch_add(2);
        else
          fail();
        break;
      case 2:
        if (!m.visit(sk, [&](const rec &v) {
              if (!v.consistent())
                torn.fetch_add(1);
            }))
          fail();
        break;
      case 3: {
        auto v = m.get(sk);
        if (!v)
          fail();
        else if (!v->consistent())
          torn.fetch_add(1);
        break;
      }
      case 4:
        if (!m.get_or_insert_default(sk).consistent())
          torn.fetch_add(1);
        break;
      case 5:
        if (i % 64 == 0) {
          m.for_each_mut([&](const std::int64_t &k, rec &v) {
            if (k < shared_keys)
              v.add(1);
          });
          increments.fetch_add(shared_keys);
        }
        break;
      case 6:
        if (i % 32 == 0) {
          long seen_shared = 0;
          m.for_each([&](const std::int64_t &k, const rec &v) {
            seen_shared += k < shared_keys;
            if (!v.consistent())
              torn.fetch_add(1);
          });
          if (seen_shared != shared_keys)
            fail();
        }
        break;
      case 7:
        if (i % 64 == 0) {
          auto snap = m.snapshot();
          long seen_shared = 0;
          for (auto &kv : snap) {
            seen_shared += kv.first < shared_keys;
            if (!kv.second.consistent())
              torn.fetch_add(1);
          }
          if (seen_shared != shared_keys)
            fail();
        }
        break;
      case 8: {
        const std::size_t n = m.size();
        if (n < std::size_t(shared_keys) ||
            n > std::size_t(shared_keys + threads * owned_keys))
          fail();
        if (m.empty())
          fail();
        break;
      }
      case 9:
        if (i % 256 == 0)
          m.reserve(std::size_t(x) * 4);
        if (!m.contains(sk) || m.count(sk) != 1)
          fail();
        break;
      // --- this thread's own keys: exact model
      case 10:
        if (m.insert(ok, rec(x)) == present)
          fail();
        model.emplace(ok, rec(x));
        break;
      case 11:
        if (m.emplace(ok, x) == present)
          fail();
        model.emplace(ok, rec(x));
        break;
      case 12:
        if (m.try_emplace(ok, x) == present)
          fail();
        model.emplace(ok, rec(x));
        break;
      case 13:
        if (m.insert_or_assign(ok, rec(x)) == present)
          fail();
        model[ok] = rec(x);
        break;
      case 14:
      case 15:
        if (m.erase(ok) != (present ? 1u : 0u))
          fail();
        model.erase(ok);
        break;
      case 16:
        if (m.update(ok, [&](rec &v) { v.add(x); }) != present)
          fail();
        if (present)
          mi->second.add(x);
        break;
      case 17:
        m.upsert(ok, [&](rec &v) { v.add(x); });
        model[ok].add(x);
        break;
      case 18: {
        rec got = m.get_or_insert_default(ok);
        if (!(got == model[ok]))
          fail();
        break;
      }
      case 19: {
        auto got = m.get(ok);
        if (got.has_value() != present || (present && !(*got == mi->second)))
          fail();
        break;
      }
      case 20:
        if (present) {
          if (!(m.at(ok) == mi->second))
            fail();
        } else {
          try {
            (void)m.at(ok);
            fail();
          } catch (const std::out_of_range &) {
          }
        }
        break;
      case 21: {
        bool called = false;
        const bool found = m.visit(ok, [&](const rec &v) {
          called = true;
          if (!present || !(v == mi->second))
            fail();
        });
        if (found != present || called != present)
          fail();
        break;
      }
      case 22:
        if (i % 128 == 0) {
          const std::int64_t rem = x % 5;
          const std::size_t n =
              m.erase_if([&](const std::int64_t &k, const rec &v) {
                if (!v.consistent())
                  torn.fetch_add(1);
                return k >= base && k < base + owned_keys && k % 5 == rem;
              });
          std::size_t expected = 0;
          for (auto it = model.begin(); it != model.end();)
            if (it->first % 5 == rem) {
              it = model.erase(it);
              ++expected;
            } else {
              ++it;
            }
          if (n != expected)
            fail();
        }
        break;
      case 23:
        if (i % 512 == 0) {
          SMap copy(m); // copy while others write
          if (copy.size() < std::size_t(shared_keys))
            fail();
        }
        break;
      }
    }
  });

  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  std::int64_t sum = 0;
  for (std::int64_t k = 0; k < shared_keys; ++k) {
    auto v = m.get(k);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->consistent());
    sum += v->a;
  }
  EXPECT_EQ(sum, increments.load());
  std::size_t expected_size = std::size_t(shared_keys);
  for (int t = 0; t < threads; ++t) {
    expected_size += models[t].size();
    for (std::int64_t k = owned_base(t); k < owned_base(t) + owned_keys; ++k) {
      auto it = models[t].find(k);
      auto got = m.get(k);
      ASSERT_EQ(got.has_value(), it != models[t].end()) << "key " << k;
      if (got)
        EXPECT_TRUE(*got == it->second) << "key " << k;
    }
  }
  EXPECT_EQ(m.size(), expected_size);
}

TEST(ShardedMapStress, ChaosWithClearAndAssignment) {
  SMap m(8);
  SMap other(4);
  std::atomic<long> torn{0};
  const long ops = scaled(20000);
  run_threads(threads, [&](int t) {
    std::mt19937_64 rng(std::uint64_t(t) + 99);
    for (long i = 0; i < ops; ++i) {
      const std::uint64_t r = rng();
      const std::int64_t k = std::int64_t(r % 200);
      const std::int64_t x = std::int64_t((r >> 16) % 100);
      auto check = [&](const rec &v) {
        if (!v.consistent())
          torn.fetch_add(1);
      };
      switch ((r >> 40) % 14) {
      case 0:
        m.insert(k, rec(x));
        break;
      case 1:
        m.insert_or_assign(k, rec(x));
        break;
      case 2:
        m.erase(k);
        break;
      case 3:
        m.upsert(k, [&](rec &v) { v.add(x); });
        break;
      case 4:
        m.update(k, [&](rec &v) { v.add(1); });
        break;
      case 5:
        m.visit(k, check);
        break;
      case 6:
        if (auto v = m.get(k))
          check(*v);
        break;
      case 7:
        if (i % 100 == 0)
          m.clear();
        break;
      case 8:
        if (i % 50 == 0)
          m.erase_if([&](const std::int64_t &key, const rec &v) {
            check(v);
            return key % 3 == x % 3;
          });
        break;
      case 9:
        if (i % 50 == 0)
          m.for_each([&](const std::int64_t &, const rec &v) { check(v); });
        break;
      case 10:
        if (i % 200 == 0)
          m.reserve(std::size_t(x) * 10);
        break;
      case 11:
        if (i % 200 == 0) {
          if (t % 2 == 0)
            other = m; // assignment while both maps are in use
          else
            other.for_each(
                [&](const std::int64_t &, const rec &v) { check(v); });
        }
        break;
      case 12:
        (void)m.try_emplace(k, x);
        (void)m.emplace(k + 1, x);
        break;
      case 13:
        if (i % 50 == 0)
          m.for_each_mut([&](const std::int64_t &, rec &v) { v.add(1); });
        break;
      }
    }
  });
  EXPECT_EQ(torn.load(), 0);
  // Quiescent now: every way of counting must agree.
  std::size_t by_for_each = 0;
  m.for_each([&](const std::int64_t &, const rec &v) {
    ++by_for_each;
    EXPECT_TRUE(v.consistent());
  });
  EXPECT_EQ(m.size(), by_for_each);
  EXPECT_EQ(m.snapshot().size(), by_for_each);
  EXPECT_EQ(m.empty(), by_for_each == 0);
  other.for_each(
      [&](const std::int64_t &, const rec &v) { EXPECT_TRUE(v.consistent()); });
}

//===-- snapshot_map -----------------------------------------------------===//

using NMap = concguard::snapshot_map<std::int64_t, std::int64_t>;
constexpr std::int64_t bank_accounts = 32;
constexpr std::int64_t bank_total = bank_accounts * 1000;

std::int64_t bank_sum(const NMap::map_type &m) {
  std::int64_t s = 0;
  for (std::int64_t k = 0; k < bank_accounts; ++k) {
    auto it = m.find(k);
    s += it == m.end() ? 0 : it->second;
  }
  return s;
}

TEST(SnapshotMapStress, BatchesAreAtomicAndOwnKeysExact) {
  NMap m;
  m.update([](NMap::map_type &mm) {
    for (std::int64_t k = 0; k < bank_accounts; ++k)
      mm[k] = 1000;
  });
  std::atomic<long> inconsistent{0}, failures{0};
  std::vector<std::map<std::int64_t, std::int64_t>> models(threads);
  const long ops = scaled(8000);
  constexpr std::int64_t own = 40;

  run_threads(threads, [&](int t) {
    std::mt19937_64 rng(std::uint64_t(t) * 31 + 5);
    auto &model = models[t];
    const std::int64_t base = owned_base(t);
    auto fail = [&] { failures.fetch_add(1); };
    NMap::snapshot_type held = m.snapshot();
    const std::int64_t held_sum = bank_sum(*held);
    for (long i = 0; i < ops; ++i) {
      const std::uint64_t r = rng();
      const std::int64_t a = std::int64_t(r % bank_accounts);
      const std::int64_t b = std::int64_t((r >> 8) % bank_accounts);
      const std::int64_t ok = base + std::int64_t((r >> 16) % own);
      const std::int64_t x = std::int64_t((r >> 24) % 100);
      auto mi = model.find(ok);
      const bool present = mi != model.end();
      switch ((r >> 40) % 20) {
      case 0: // transfer: a batch of two writes, seen together or not at all
        m.update([&](NMap::map_type &mm) {
          mm[a] -= x;
          mm[b] += x;
        });
        break;
      case 1:
      case 2: {
        std::int64_t s = 0;
        m.for_each([&](const std::int64_t &k, const std::int64_t &v) {
          if (k < bank_accounts)
            s += v;
        });
        if (s != bank_total)
          inconsistent.fetch_add(1);
        break;
      }
      case 3: {
        auto snap = m.snapshot();
        if (bank_sum(*snap) != bank_total)
          inconsistent.fetch_add(1);
        break;
      }
      case 4:
        if (!m.visit(a, [](const std::int64_t &) {}) || !m.contains(a) ||
            m.count(a) != 1 || !m.get(a) || m.empty() ||
            m.size() < std::size_t(bank_accounts))
          fail();
        (void)m.at(b);
        break;
      case 5:
        if (m.insert(ok, x) == present)
          fail();
        model.emplace(ok, x);
        break;
      case 6:
        if (m.try_emplace(ok, x) == present || m.emplace(ok, x))
          fail();
        model.emplace(ok, x);
        break;
      case 7:
        if (m.insert_or_assign(ok, x) == present)
          fail();
        model[ok] = x;
        break;
      case 8:
      case 9:
        if (m.erase(ok) != (present ? 1u : 0u))
          fail();
        model.erase(ok);
        break;
      case 10:
        if (m.update(ok, [&](std::int64_t &v) { v += x; }) != present)
          fail();
        if (present)
          mi->second += x;
        break;
      case 11:
        m.upsert(ok, [&](std::int64_t &v) { v += x; });
        model[ok] += x;
        break;
      case 12:
        if (m.get_or_insert_default(ok) != model[ok])
          fail();
        break;
      case 13: {
        auto got = m.get(ok);
        if (got.has_value() != present || (present && *got != mi->second))
          fail();
        break;
      }
      case 14:
        if (i % 16 == 0) {
          const std::int64_t rem = x % 3;
          const std::size_t n =
              m.erase_if([&](const std::int64_t &k, const std::int64_t &) {
                return k >= base && k < base + own && k % 3 == rem;
              });
          std::size_t expected = 0;
          for (auto it = model.begin(); it != model.end();)
            if (it->first % 3 == rem) {
              it = model.erase(it);
              ++expected;
            } else {
              ++it;
            }
          if (n != expected)
            fail();
        }
        break;
      case 15:
        if (i % 16 == 0)
          m.for_each_mut([&](const std::int64_t &k, std::int64_t &v) {
            if (k >= base && k < base + own)
              v += 1;
          });
        if (i % 16 == 0)
          for (auto &kv : model)
            kv.second += 1;
        break;
      case 16: { // short-lived maps on this thread: fresh identities
        NMap local;
        local.insert(1, x);
        if (local.at(1) != x || local.size() != 1)
          fail();
        NMap copy(m);
        if (bank_sum(*copy.snapshot()) != bank_total)
          inconsistent.fetch_add(1);
        break;
      }
      case 17: // a snapshot held across writes never changes
        if (bank_sum(*held) != held_sum)
          inconsistent.fetch_add(1);
        if (i % 64 == 0)
          NMap::release_thread_cache();
        break;
      case 18: {
        bool seen = false;
        m.visit(ok, [&](const std::int64_t &v) {
          seen = true;
          if (!present || v != mi->second)
            fail();
        });
        if (seen != present)
          fail();
        break;
      }
      case 19:
        if (present) {
          if (m.at(ok) != mi->second)
            fail();
        } else if (m.contains(ok)) {
          fail();
        }
        break;
      }
    }
  });

  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  auto final_snap = m.snapshot();
  EXPECT_EQ(bank_sum(*final_snap), bank_total);
  std::size_t expected_size = std::size_t(bank_accounts);
  for (int t = 0; t < threads; ++t) {
    expected_size += models[t].size();
    for (auto &kv : models[t])
      EXPECT_EQ(m.get(kv.first), std::optional<std::int64_t>(kv.second));
  }
  EXPECT_EQ(m.size(), expected_size);
}

TEST(SnapshotMapStress, ReadersAcrossManyMapsAndClears) {
  // Several maps read by every thread (cache entries for each), with
  // clears and copy-assignments between them.
  constexpr int nmaps = 12; // more than the per-thread cache holds
  std::vector<std::unique_ptr<NMap>> maps;
  for (int i = 0; i < nmaps; ++i) {
    maps.push_back(std::make_unique<NMap>());
    maps.back()->insert(0, i);
  }
  std::atomic<long> wrong{0};
  const long ops = scaled(12000);
  run_threads(threads, [&](int t) {
    std::mt19937_64 rng(std::uint64_t(t) + 1234);
    for (long i = 0; i < ops; ++i) {
      const std::uint64_t r = rng();
      NMap &mm = *maps[r % nmaps];
      switch ((r >> 32) % 8) {
      case 0:
        mm.clear();
        mm.insert(0, std::int64_t(r % nmaps));
        break;
      case 1:
        *maps[(r >> 8) % nmaps] = mm;
        break;
      default: {
        // Key 0 is absent only between a clear and its re-insert.
        auto v = mm.get(0);
        if (v && (*v < 0 || *v >= nmaps))
          wrong.fetch_add(1);
        mm.for_each([&](const std::int64_t &k, const std::int64_t &) {
          if (k != 0)
            wrong.fetch_add(1);
        });
      }
      }
    }
  });
  EXPECT_EQ(wrong.load(), 0);
}

/// Counts live instances (atomically: they are copied and destroyed on
/// every thread) so the test can check that every version was freed.
struct live_value {
  static inline std::atomic<long> live{0};
  std::int64_t v = 0;
  std::string pad;
  live_value() { live.fetch_add(1); }
  explicit live_value(std::int64_t x) : v(x), pad(std::size_t(x % 5) * 7, 'q') {
    live.fetch_add(1);
  }
  live_value(const live_value &o) : v(o.v), pad(o.pad) { live.fetch_add(1); }
  live_value &operator=(const live_value &) = default;
  ~live_value() { live.fetch_sub(1); }
};

/// Order-independent digest of a snapshot's contents.
template <class Snap> std::uint64_t digest(const Snap &s) {
  std::uint64_t d = s.size();
  for (const auto &kv : s)
    d += (std::uint64_t(kv.first) * 0x9e3779b97f4a7c15ULL) ^
         (std::uint64_t(kv.second.v) + kv.second.pad.size());
  return d;
}

TEST(SnapshotMapStress, TrieSnapshotsHeldDuringWritesStayUnchanged) {
  using TMap = concguard::snapshot_map<std::int64_t, live_value>;
  ASSERT_EQ(live_value::live.load(), 0);
  {
    TMap m;
    constexpr std::int64_t group = 16; // keys written together by batches
    m.update([](TMap::map_type &mm) {
      for (std::int64_t k = 0; k < group; ++k)
        mm.insert_or_assign(k, live_value(0));
    });
    std::atomic<long> failures{0};
    const long ops = scaled(6000);
    run_threads(threads, [&](int t) {
      std::mt19937_64 rng(std::uint64_t(t) * 17 + 3);
      if (t < 2) { // writers: single keys and whole-group batches
        for (long i = 0; i < ops; ++i) {
          const std::int64_t k = group + std::int64_t(rng() % 2000);
          switch (rng() % 8) {
          case 0:
            m.erase(k);
            break;
          case 1: {
            const std::int64_t x = std::int64_t(rng() % 1000);
            m.update([&](TMap::map_type &mm) {
              for (std::int64_t g = 0; g < group; ++g)
                mm.insert_or_assign(g, live_value(x));
            });
            break;
          }
          default:
            m.insert_or_assign(k, live_value(std::int64_t(i)));
          }
        }
        return;
      }
      // Readers: hold snapshots while the writers go on, and check that a
      // held snapshot's contents never change and each batch is whole.
      std::vector<std::pair<TMap::snapshot_type, std::uint64_t>> held;
      for (long i = 0; i < ops; ++i) {
        TMap::snapshot_type s = m.snapshot();
        const std::int64_t first = s->at(0).v;
        for (std::int64_t g = 1; g < group; ++g)
          if (s->at(g).v != first)
            failures.fetch_add(1);
        if (i % 50 == 0)
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
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GT(live_value::live.load(), 0);
  }
  TMap::release_thread_cache();
  // Every version published, held and replaced is gone with the map.
  EXPECT_EQ(live_value::live.load(), 0);
}

/// int64 keys and values: sharded_map uses optimistic shards (lock-free
/// reads validated by the shard's sequence count). Each value carries its
/// key in the low 20 bits, so a read that paired one element's key with
/// another's value (a slot reused by a backward shift or a growth while the
/// reader probed it) is caught. One shard, so that every write disturbs the
/// readers' probes.
TEST(ShardedMapStress, OptimisticReadsNeverPairAKeyWithAnotherValue) {
  static_assert(
      concguard::detail::optimistic_elements<std::int64_t, std::int64_t>);
  concguard::sharded_map<std::int64_t, std::int64_t> m(1);
  constexpr std::int64_t keys = 3000;
  std::atomic<long> wrong{0}, hits{0};
  std::atomic<int> writers_done{0};
  const long ops = scaled(60000);
  run_threads(threads, [&](int t) {
    std::mt19937_64 rng(std::uint64_t(t) * 7 + 1);
    if (t < 2) {
      for (long i = 0; i < ops; ++i) {
        const std::int64_t k = std::int64_t(rng() % keys);
        switch (rng() % 8) {
        case 0:
        case 1:
          m.erase(k);
          break;
        case 2:
          m.update(k, [&](std::int64_t &v) { v += std::int64_t(1) << 20; });
          break;
        case 3:
          if (i % 5000 == 0)
            m.erase_if([](const std::int64_t &key, const std::int64_t &) {
              return key % 4 == 0;
            });
          break;
        default:
          m.insert_or_assign(k, (std::int64_t(i) << 20) | k);
        }
      }
      writers_done.fetch_add(1);
      return;
    }
    // Until the writers are done, and at least a minimum of reads (an
    // optimized build may finish the writers before a reader starts). On a
    // loaded machine the readers may spend all their reads on the empty map
    // before a writer is scheduled, and the writers may then run to the end
    // while no reader is: so a reader that has not found a value yet goes on
    // reading the finished map (about two thirds full) for a while, counted
    // from the moment the writers are done.
    const long min_reads = scaled(20000);
    long reads_after_writers = 0;
    for (long r = 0;; ++r) {
      if (writers_done.load() == 2) {
        if (r >= min_reads &&
            (hits.load() > 0 || reads_after_writers >= 10 * min_reads + keys))
          break;
        ++reads_after_writers;
      }
      const std::int64_t k = std::int64_t(rng() % keys);
      if (auto v = m.get(k)) {
        hits.fetch_add(1, std::memory_order_relaxed);
        if ((*v & 0xfffff) != k)
          wrong.fetch_add(1);
      }
      m.visit(k, [&](const std::int64_t &v) {
        if ((v & 0xfffff) != k)
          wrong.fetch_add(1);
      });
      if (rng() % 512 == 0)
        m.for_each([&](const std::int64_t &key, const std::int64_t &v) {
          if ((v & 0xfffff) != key)
            wrong.fetch_add(1);
        });
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
  m.for_each([&](const std::int64_t &key, const std::int64_t &v) {
    EXPECT_EQ(v & 0xfffff, key);
  });
}

} // namespace

//===-- The API additions of issue 20 under contention
//---------------------===//

namespace extra {

/// Transparent string hash and equality: lookups by std::string_view.
struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>()(s);
  }
};
struct text_equal {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return a == b;
  }
};

std::string key_name(int k) { return "key-" + std::to_string(k); }

/// Every thread adds 1 to random keys through emplace_or_visit (inserting 1
/// when absent) and assign_if_equal retry loops, while looking keys up by
/// std::string_view; at the end the values add up to the increments made.
template <class M> void expect_increments_add_up() {
  M m;
  constexpr int keys = 32;
  const long ops = scaled(4000);
  std::atomic<long> increments{0};
  run_threads(threads, [&](int t) {
    std::mt19937 rng(static_cast<unsigned>(t) + 7);
    long mine = 0;
    for (long i = 0; i < ops; ++i) {
      const std::string name = key_name(static_cast<int>(rng() % keys));
      const std::string_view view = name;
      switch (rng() % 4) {
      case 0:
        m.emplace_or_visit(name, 1L, [](long &v) { ++v; });
        ++mine;
        break;
      case 1:
        if (m.contains(view))
          for (;;) {
            const long cur = m.at(view);
            if (m.assign_if_equal(name, cur, cur + 1)) {
              ++mine;
              break;
            }
          }
        break;
      case 2: {
        const std::optional<long> v = m.get(view);
        EXPECT_TRUE(!v || *v >= 1);
        m.visit(view, [](const std::string &k, const long &value) {
          EXPECT_EQ(k.compare(0, 4, "key-"), 0);
          EXPECT_GE(value, 1);
        });
        break;
      }
      default:
        m.emplace_or_cvisit(name, 1L, [](const long &v) { EXPECT_GE(v, 1); });
        // Counted only if it inserted; emplace_or_cvisit says so.
        break;
      }
    }
    increments.fetch_add(mine);
  });
  long total = 0;
  m.for_each([&](const std::string &, const long &v) { total += v; });
  // emplace_or_cvisit inserted some keys with 1: count them apart.
  long inserted_by_cvisit = total - increments.load();
  EXPECT_GE(inserted_by_cvisit, 0);
  EXPECT_LE(inserted_by_cvisit, keys);
}

/// Exact version: only emplace_or_visit and assign_if_equal write.
template <class M> void expect_increments_exact() {
  M m;
  constexpr int keys = 16;
  const long ops = scaled(4000);
  std::atomic<long> increments{0};
  run_threads(threads, [&](int t) {
    std::mt19937 rng(static_cast<unsigned>(t) + 11);
    long mine = 0;
    for (long i = 0; i < ops; ++i) {
      const std::string name = key_name(static_cast<int>(rng() % keys));
      if (rng() % 2 == 0) {
        m.emplace_or_visit(name, 1L, [](const std::string &, long &v) { ++v; });
        ++mine;
      } else if (m.contains(std::string_view(name))) {
        for (;;) {
          const long cur = m.at(std::string_view(name));
          if (m.assign_if_equal(name, cur, cur + 1))
            break;
        }
        ++mine;
      }
    }
    increments.fetch_add(mine);
  });
  long total = 0;
  m.for_each([&](const std::string &, const long &v) { total += v; });
  EXPECT_EQ(total, increments.load());
}

} // namespace extra

TEST(ApiAdditionsStress, ShardedMapIncrementsAddUp) {
  using M = concguard::sharded_map<std::string, long, extra::text_hash,
                                   extra::text_equal>;
  extra::expect_increments_add_up<M>();
  extra::expect_increments_exact<M>();
}

TEST(ApiAdditionsStress, SnapshotMapIncrementsAddUp) {
  using M = concguard::snapshot_map<
      std::string, long,
      concguard::persistent_map<std::string, long, extra::text_hash,
                                extra::text_equal>>;
  extra::expect_increments_add_up<M>();
  extra::expect_increments_exact<M>();
}

/// Optimistic shards: emplace_or_visit and assign_if_equal as counters.
TEST(ApiAdditionsStress, OptimisticIncrementsExact) {
  concguard::sharded_map<std::int64_t, std::int64_t> m;
  const long ops = scaled(4000);
  std::atomic<long> increments{0};
  run_threads(threads, [&](int t) {
    std::mt19937 rng(static_cast<unsigned>(t) + 13);
    long mine = 0;
    for (long i = 0; i < ops; ++i) {
      const std::int64_t k = static_cast<std::int64_t>(rng() % 16);
      if (rng() % 2 == 0) {
        m.emplace_or_visit(k, std::int64_t(1), [](std::int64_t &v) { ++v; });
        ++mine;
      } else if (m.contains(k)) {
        for (;;) {
          const std::int64_t cur = m.at(k);
          if (m.assign_if_equal(k, cur, cur + 1))
            break;
        }
        ++mine;
      }
    }
    increments.fetch_add(mine);
  });
  long total = 0;
  m.for_each([&](const std::int64_t &, const std::int64_t &v) { total += v; });
  EXPECT_EQ(total, increments.load());
}

/// snapshot_map::swap while readers and a batch writer run: every snapshot
/// a reader sees holds one generation (all values equal), and the two maps
/// keep their sizes between them.
TEST(ApiAdditionsStress, SnapshotMapSwapWhileReading) {
  using M = concguard::snapshot_map<int, long>;
  constexpr int keys = 50;
  M a, b;
  a.update([](auto &m) {
    for (int k = 0; k < keys; ++k)
      m.insert_or_assign(k, 1);
  });
  b.update([](auto &m) {
    for (int k = 0; k < keys + 10; ++k)
      m.insert_or_assign(k, 2);
  });
  const long ops = scaled(2000);
  run_threads(threads, [&](int t) {
    for (long i = 0; i < ops; ++i) {
      if (t == 0) {
        swap(a, b);
      } else if (t == 1) {
        // A batch that rewrites every value of one map to a new generation.
        M &target = (i % 2 == 0) ? a : b;
        target.update([&](auto &m) {
          for (auto it = m.begin(); it != m.end(); ++it)
            it->second = 3 + i;
        });
      } else {
        const M &target = (i % 2 == 0) ? a : b;
        auto snap = target.snapshot();
        long first = -1;
        for (const auto &kv : *snap) {
          if (first == -1)
            first = kv.second;
          ASSERT_EQ(kv.second, first) << "a snapshot mixes two generations";
        }
        ASSERT_TRUE(snap->size() == keys || snap->size() == keys + 10);
      }
    }
  });
  EXPECT_EQ(a.size() + b.size(), 2 * keys + 10);
  EXPECT_NE(a.size(), b.size());
}
