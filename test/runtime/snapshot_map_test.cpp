// Unit tests of concguard::snapshot_map: every member function, snapshot
// immutability, batching, the per-thread cache (map identities, address
// reuse, nested reads, eviction).
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using concguard::snapshot_map;
using Map = snapshot_map<int, std::string>;

TEST(SnapshotMap, StartsEmpty) {
  Map m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.get(1));
  EXPECT_FALSE(m.contains(1));
  EXPECT_EQ(m.count(1), 0u);
  EXPECT_THROW(m.at(1), std::out_of_range);
  ASSERT_NE(m.snapshot(), nullptr);
  EXPECT_TRUE(m.snapshot()->empty());
}

TEST(SnapshotMap, ConvenienceWriters) {
  Map m;
  EXPECT_TRUE(m.insert(1, "a"));
  EXPECT_FALSE(m.insert(1, "b"));
  EXPECT_EQ(m.at(1), "a");
  EXPECT_TRUE(m.emplace(2, 3u, 'x'));
  EXPECT_FALSE(m.emplace(2, 1u, 'y'));
  EXPECT_EQ(m.at(2), "xxx");
  EXPECT_TRUE(m.try_emplace(3, "c"));
  EXPECT_FALSE(m.try_emplace(3, "d"));
  EXPECT_EQ(m.at(3), "c");
  EXPECT_TRUE(m.insert_or_assign(4, "d"));
  EXPECT_FALSE(m.insert_or_assign(4, "e"));
  EXPECT_EQ(m.at(4), "e");
  EXPECT_EQ(m.size(), 4u);
  EXPECT_TRUE(m.update(4, [](std::string &v) { v += "!"; }));
  EXPECT_FALSE(m.update(5, [](std::string &v) { v += "!"; }));
  EXPECT_EQ(m.at(4), "e!");
  m.upsert(5, [](std::string &v) {
    EXPECT_TRUE(v.empty());
    v = "five";
  });
  m.upsert(5, [](std::string &v) { v += "+"; });
  EXPECT_EQ(m.at(5), "five+");
  EXPECT_EQ(m.get_or_insert_default(6), "");
  EXPECT_TRUE(m.contains(6));
  EXPECT_EQ(m.get_or_insert_default(5), "five+");
  EXPECT_EQ(m.erase(6), 1u);
  EXPECT_EQ(m.erase(6), 0u);
  EXPECT_EQ(m.erase_if([](const int &k, const std::string &) { return k < 3; }),
            2u);
  EXPECT_EQ(m.size(), 3u);
  m.for_each_mut([](const int &, std::string &v) { v = "[" + v + "]"; });
  EXPECT_EQ(m.at(3), "[c]");
  m.clear();
  EXPECT_TRUE(m.empty());
  m.clear(); // clearing an empty map is fine
  EXPECT_TRUE(m.empty());
}

TEST(SnapshotMap, TryEmplaceLeavesArgumentsAloneWhenKeyExists) {
  snapshot_map<int, std::shared_ptr<int>> m;
  auto p = std::make_shared<int>(1);
  EXPECT_TRUE(m.try_emplace(1, std::move(p)));
  auto q = std::make_shared<int>(2);
  EXPECT_FALSE(m.try_emplace(1, std::move(q)));
  EXPECT_NE(q, nullptr);
  EXPECT_FALSE(m.emplace(1, std::move(q)));
  EXPECT_NE(q, nullptr);
}

TEST(SnapshotMap, SnapshotsAreImmutable) {
  Map m;
  m.insert(1, "a");
  auto before = m.snapshot();
  m.insert_or_assign(1, "b");
  m.insert(2, "c");
  EXPECT_EQ(before->size(), 1u);
  EXPECT_EQ(before->at(1), "a");
  auto after = m.snapshot();
  EXPECT_NE(before.get(), after.get());
  EXPECT_EQ(after->at(1), "b");
  EXPECT_EQ(after->size(), 2u);
}

TEST(SnapshotMap, NoOpWritesPublishNothing) {
  Map m;
  m.insert(1, "a");
  auto s = m.snapshot();
  EXPECT_FALSE(m.insert(1, "x"));
  EXPECT_FALSE(m.try_emplace(1, "x"));
  EXPECT_EQ(m.erase(99), 0u);
  EXPECT_FALSE(m.update(99, [](std::string &) {}));
  EXPECT_EQ(m.erase_if([](const int &, const std::string &) { return false; }),
            0u);
  EXPECT_EQ(m.get_or_insert_default(1), "a");
  EXPECT_EQ(m.snapshot().get(), s.get()); // same snapshot object
}

TEST(SnapshotMap, UpdateBatchesManyChangesIntoOneSnapshot) {
  Map m;
  auto empty = m.snapshot();
  m.update([](auto &mm) {
    for (int i = 0; i < 100; ++i)
      mm.emplace(i, std::to_string(i));
  });
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(m.size(), 100u);
  EXPECT_EQ(m.at(42), "42");
}

TEST(SnapshotMap, VisitAndForEach) {
  snapshot_map<int, int> m{{1, 10}, {2, 20}, {3, 30}};
  int seen = 0;
  EXPECT_TRUE(m.visit(2, [&](const int &v) { seen = v; }));
  EXPECT_EQ(seen, 20);
  EXPECT_FALSE(m.visit(9, [&](const int &) { seen = -1; }));
  EXPECT_EQ(seen, 20);
  int sum = 0;
  m.for_each([&](const int &k, const int &v) {
    EXPECT_EQ(v, 10 * k);
    sum += v;
  });
  EXPECT_EQ(sum, 60);
}

TEST(SnapshotMap, ReadCallbacksMayCallTheMap) {
  // Read callbacks hold no lock: nested reads and even writes are allowed,
  // and the outer callback keeps its own snapshot.
  snapshot_map<int, int> m{{1, 1}, {2, 2}};
  std::vector<int> seen;
  m.for_each([&](const int &k, const int &v) {
    seen.push_back(v);
    EXPECT_EQ(m.get(k), std::optional<int>(v));
    m.insert(1000 + k, k); // writer from inside a read callback
    EXPECT_TRUE(m.visit(1000 + k, [&](const int &x) { EXPECT_EQ(x, k); }));
  });
  EXPECT_EQ(seen.size(), 2u); // the outer snapshot did not grow
  EXPECT_EQ(m.size(), 4u);
}

TEST(SnapshotMap, NestedReadDoesNotFreeOuterSnapshot) {
  // The outer visit uses this thread's cached snapshot; a nested read after
  // a write must not replace (and free) it while the outer callback runs.
  snapshot_map<int, std::string> m{{1, std::string(100, 'a')}};
  m.visit(1, [&](const std::string &outer) {
    m.insert_or_assign(1, std::string(100, 'b'));
    EXPECT_EQ(m.at(1), std::string(100, 'b'));
    m.insert_or_assign(1, std::string(100, 'c'));
    EXPECT_EQ(m.get(1), std::string(100, 'c'));
    EXPECT_EQ(outer, std::string(100, 'a')); // still alive and unchanged
  });
  EXPECT_EQ(m.at(1), std::string(100, 'c'));
}

TEST(SnapshotMap, CopiesShareSnapshotsButNotFutureWrites) {
  Map a{{1, "x"}};
  Map b(a);
  EXPECT_EQ(a.snapshot().get(), b.snapshot().get());
  b.insert(2, "y");
  EXPECT_FALSE(a.contains(2));
  Map c;
  c.insert(7, "z");
  c = a;
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.at(1), "x");
  EXPECT_FALSE(c.contains(7));
  c = c;
  EXPECT_EQ(c.size(), 1u);
  Map d(Map::map_type{{5, "five"}});
  EXPECT_EQ(d.at(5), "five");
}

TEST(SnapshotMap, CacheIsKeyedByIdentityNotAddress) {
  // Build a map, read it (this thread caches its snapshot), destroy it, and
  // build a new one at the very same address with different contents: the
  // new map must not be served the old map's cached snapshot.
  using M = snapshot_map<int, int>;
  alignas(M) unsigned char storage[sizeof(M)];
  // Every round performs the same writes, so the new map reaches the same
  // version number as the old one did: only the identity tells them apart.
  for (int round = 0; round < 50; ++round) {
    M *m = ::new (static_cast<void *>(storage)) M();
    m->insert(1, round);
    EXPECT_EQ(m->get(1), std::optional<int>(round)) << "round " << round;
    EXPECT_EQ(m->size(), 1u) << "round " << round;
    m->~M();
  }
}

TEST(SnapshotMap, ManyMapsOnOneThreadStayCorrect) {
  // More maps than per-thread cache entries: reads rotate through all of them
  // and must always see each map's own latest snapshot.
  using M = snapshot_map<int, int>;
  const int n = int(M::thread_cache_entries) * 3;
  std::vector<std::unique_ptr<M>> maps;
  for (int i = 0; i < n; ++i) {
    maps.push_back(std::make_unique<M>());
    maps.back()->insert(0, i);
  }
  for (int round = 0; round < 5; ++round)
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(maps[i]->at(0), i + round);
      maps[i]->insert_or_assign(0, i + round + 1);
    }
}

TEST(SnapshotMap, ReleaseThreadCacheDropsCachedSnapshots) {
  using M = snapshot_map<int, int>;
  std::weak_ptr<const M::map_type> weak;
  {
    M m{{1, 1}};
    EXPECT_EQ(m.at(1), 1); // cached by this thread
    weak = m.snapshot();
  }
  // The map is gone, but this thread's cache still holds its last snapshot.
  EXPECT_FALSE(weak.expired());
  M::release_thread_cache();
  EXPECT_TRUE(weak.expired());
}

TEST(SnapshotMap, ReadersOnOtherThreadsSeePublishedWrites) {
  snapshot_map<int, int> m;
  std::atomic<int> stage{0};
  std::thread reader([&] {
    EXPECT_FALSE(m.contains(1)); // caches the empty snapshot
    stage = 1;
    while (stage.load() != 2)
      std::this_thread::yield();
    EXPECT_EQ(m.get(1), std::optional<int>(5)); // must revalidate
  });
  while (stage.load() != 1)
    std::this_thread::yield();
  m.insert(1, 5);
  stage = 2;
  reader.join();
}

TEST(SnapshotMap, WorksWithOrderedMap) {
  snapshot_map<int, std::string, std::map<int, std::string>> m;
  m.insert(3, "c");
  m.insert(1, "a");
  m.insert(2, "b");
  std::string order;
  m.for_each([&](const int &, const std::string &v) { order += v; });
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(
      m.erase_if([](const int &k, const std::string &) { return k == 2; }), 1u);
  EXPECT_EQ(m.size(), 2u);
}

} // namespace
