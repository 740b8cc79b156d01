// Exception safety: a callback (or a copy of a value) that throws must leave
// the lock released and the map valid, with the documented contents.
//
// "Lock released" is checked from another thread with a deadline: if a lock
// leaked, that thread would block forever, and the test aborts instead of
// hanging.
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

struct boom : std::runtime_error {
  boom() : std::runtime_error("boom") {}
};

/// Runs `f` on another thread; aborts the process if it does not finish in
/// time (a leaked lock), since a blocked thread cannot be cancelled.
void completes_on_another_thread(const std::function<void()> &f,
                                 const char *what) {
  std::packaged_task<void()> task(f);
  std::future<void> done = task.get_future();
  std::thread t(std::move(task));
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: %s did not complete: a lock was leaked\n",
                 what);
    std::abort();
  }
  t.join();
  done.get(); // rethrows a failure of f
}

template <class M> void expect_all_locks_free(M &m, const char *what) {
  using V = typename M::mapped_type;
  // sharded_map: enough keys to write every shard; snapshot_map has one
  // writer mutex.
  const int probes =
      std::is_same_v<M, concguard::snapshot_map<int, V>> ? 4 : 4096;
  completes_on_another_thread(
      [&] {
        for (int k = 0; k < probes; ++k)
          m.insert_or_assign(100000 + k, V{});
        for (int k = 0; k < probes; ++k)
          m.erase(100000 + k);
        (void)m.size();
      },
      what);
  // And from this thread (the debug re-entrancy record must be clean too).
  m.insert_or_assign(-1, V{});
  EXPECT_EQ(m.erase(-1), 1u);
}

/// A value whose copy constructor throws on demand.
struct fragile {
  static inline bool throw_on_copy = false;
  std::string s;
  fragile() = default;
  explicit fragile(std::string v) : s(std::move(v)) {}
  fragile(const fragile &o) : s(o.s) {
    if (throw_on_copy)
      throw boom();
  }
  fragile(fragile &&) noexcept = default;
  fragile &operator=(const fragile &) = default;
  fragile &operator=(fragile &&) noexcept = default;
};

using SMap = concguard::sharded_map<int, std::string>;

SMap filled_sharded(int n = 200) {
  SMap m(8);
  for (int i = 0; i < n; ++i)
    m.insert(i, std::to_string(i));
  return m;
}

TEST(ShardedMapExceptions, VisitThrows) {
  SMap m = filled_sharded();
  EXPECT_THROW(m.visit(3, [](const std::string &) { throw boom(); }), boom);
  expect_all_locks_free(m, "sharded visit");
  EXPECT_EQ(m.at(3), "3");
  EXPECT_EQ(m.size(), 200u);
}

TEST(ShardedMapExceptions, UpdateThrowsAfterPartialChange) {
  SMap m = filled_sharded();
  EXPECT_THROW(m.update(4,
                        [](std::string &v) {
                          v += "!";
                          throw boom();
                        }),
               boom);
  expect_all_locks_free(m, "sharded update");
  EXPECT_EQ(m.at(4), "4!"); // documented: f's own changes stay
}

TEST(ShardedMapExceptions, UpsertThrowsOnNewKeyRollsBack) {
  SMap m = filled_sharded();
  EXPECT_THROW(m.upsert(5000, [](std::string &) { throw boom(); }), boom);
  expect_all_locks_free(m, "sharded upsert (new key)");
  EXPECT_FALSE(m.contains(5000)); // the default value was removed again
  EXPECT_THROW(m.upsert(7,
                        [](std::string &v) {
                          v = "x";
                          throw boom();
                        }),
               boom);
  expect_all_locks_free(m, "sharded upsert (existing key)");
  EXPECT_EQ(m.at(7), "x");
  EXPECT_EQ(m.size(), 200u);
}

TEST(ShardedMapExceptions, ForEachThrowsMidway) {
  SMap m = filled_sharded();
  int calls = 0;
  EXPECT_THROW(m.for_each([&](const int &, const std::string &) {
    if (++calls == 50)
      throw boom();
  }),
               boom);
  expect_all_locks_free(m, "sharded for_each");
  EXPECT_EQ(m.size(), 200u);
}

TEST(ShardedMapExceptions, ForEachMutThrowsMidway) {
  SMap m = filled_sharded();
  int calls = 0;
  EXPECT_THROW(m.for_each_mut([&](const int &, std::string &v) {
    if (++calls == 50)
      throw boom();
    v = "changed";
  }),
               boom);
  expect_all_locks_free(m, "sharded for_each_mut");
  int changed = 0;
  m.for_each(
      [&](const int &, const std::string &v) { changed += v == "changed"; });
  EXPECT_EQ(changed, 49);
  EXPECT_EQ(m.size(), 200u);
}

TEST(ShardedMapExceptions, EraseIfThrowsMidway) {
  SMap m = filled_sharded();
  int calls = 0;
  EXPECT_THROW(m.erase_if([&](const int &, const std::string &) {
    if (++calls == 100)
      throw boom();
    return calls % 2 == 0;
  }),
               boom);
  expect_all_locks_free(m, "sharded erase_if");
  EXPECT_EQ(m.size(), 200u - 49u); // the removals before the throw stay
}

TEST(ShardedMapExceptions, ThrowingValueCopy) {
  concguard::sharded_map<int, fragile> m(4);
  m.insert(1, fragile("one"));
  fragile::throw_on_copy = true;
  EXPECT_THROW(m.get(1), boom);
  EXPECT_THROW(m.at(1), boom);
  EXPECT_THROW(m.get_or_insert_default(1), boom);
  EXPECT_THROW(m.snapshot(), boom);
  EXPECT_THROW((concguard::sharded_map<int, fragile>(m)), boom);
  fragile::throw_on_copy = false;
  expect_all_locks_free(m, "sharded copy");
  EXPECT_EQ(m.at(1).s, "one");
  EXPECT_EQ(m.size(), 1u);
}

using NMap = concguard::snapshot_map<int, std::string>;

NMap filled_snapshot(int n = 200) {
  NMap m;
  m.update([&](auto &mm) {
    for (int i = 0; i < n; ++i)
      mm.emplace(i, std::to_string(i));
  });
  return m;
}

TEST(SnapshotMapExceptions, UpdateThrowsPublishesNothing) {
  NMap m = filled_snapshot();
  auto before = m.snapshot();
  EXPECT_THROW(m.update([](auto &mm) {
    mm.clear();
    throw boom();
  }),
               boom);
  expect_all_locks_free(m, "snapshot update");
  EXPECT_EQ(m.size(), 200u); // strong guarantee: nothing published
  EXPECT_EQ(m.at(10), "10");
  EXPECT_EQ(before->size(), 200u);
}

TEST(SnapshotMapExceptions, KeyedWritersThrowPublishNothing) {
  NMap m = filled_snapshot();
  EXPECT_THROW(m.update(3,
                        [](std::string &v) {
                          v = "x";
                          throw boom();
                        }),
               boom);
  EXPECT_THROW(m.upsert(9000, [](std::string &) { throw boom(); }), boom);
  EXPECT_THROW(m.upsert(4,
                        [](std::string &v) {
                          v = "y";
                          throw boom();
                        }),
               boom);
  EXPECT_THROW(m.erase_if([](const int &k, const std::string &) {
    if (k == 150)
      throw boom();
    return true;
  }),
               boom);
  int calls = 0;
  EXPECT_THROW(m.for_each_mut([&](const int &, std::string &v) {
    v = "z";
    if (++calls == 10)
      throw boom();
  }),
               boom);
  expect_all_locks_free(m, "snapshot keyed writers");
  EXPECT_EQ(m.at(3), "3");
  EXPECT_EQ(m.at(4), "4");
  EXPECT_FALSE(m.contains(9000));
  EXPECT_EQ(m.size(), 200u);
  int z = 0;
  m.for_each([&](const int &, const std::string &v) { z += v == "z"; });
  EXPECT_EQ(z, 0);
}

TEST(SnapshotMapExceptions, ReadCallbacksThrow) {
  NMap m = filled_snapshot();
  EXPECT_THROW(m.visit(1, [](const std::string &) { throw boom(); }), boom);
  EXPECT_THROW(
      m.for_each([](const int &, const std::string &) { throw boom(); }), boom);
  // The thread's cached snapshot must be unpinned: a later write followed by
  // a read on this thread must refresh it.
  m.insert_or_assign(1, "new");
  EXPECT_EQ(m.at(1), "new");
  expect_all_locks_free(m, "snapshot reads");
}

TEST(SnapshotMapExceptions, ThrowingValueCopy) {
  concguard::snapshot_map<int, fragile> m;
  m.insert(1, fragile("one"));
  fragile::throw_on_copy = true;
  EXPECT_THROW(m.get(1), boom);
  // A write shares the unchanged values with the previous snapshot (the
  // persistent trie copies no value), so inserting a moved value copies
  // nothing; changing a shared value copies it, and that copy throws.
  EXPECT_NO_THROW(m.insert(2, fragile("two")));
  EXPECT_THROW(m.update(1, [](fragile &) {}), boom);
  EXPECT_THROW(m.get_or_insert_default(3), boom);
  fragile::throw_on_copy = false;
  expect_all_locks_free(m, "snapshot copy");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(m.contains(2));
  EXPECT_FALSE(m.contains(3));
}

} // namespace
