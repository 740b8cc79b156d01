// The debug re-entrancy check: calling back into the same map from inside a
// callback that holds its lock must abort with a clear message instead of
// deadlocking. Built with the checks forced on (CONCGUARD_REENTRANCY_CHECKS=1)
// whatever the build type.
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

#if !CONCGUARD_REENTRANCY_CHECKS
#error "this test needs CONCGUARD_REENTRANCY_CHECKS=1"
#endif

namespace {

using SMap = concguard::sharded_map<int, int>;
using NMap = concguard::snapshot_map<int, int>;

const char *const message =
    "concguard: re-entrant call to concguard::sharded_map::";
const char *const snapshot_message =
    "concguard: re-entrant call to concguard::snapshot_map::";

class ReentrancyDeathTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Threadsafe style re-executes the test binary for each death test, so
    // it also works in processes with threads (sanitizers start some).
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
};

TEST_F(ReentrancyDeathTest, ShardedVisitThenGet) {
  SMap m;
  m.insert(1, 1);
  EXPECT_DEATH(m.visit(1, [&](const int &) { (void)m.get(1); }),
               std::string(message) + "get\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedVisitThenReadOfAnotherShard) {
  // Even a key of another shard: lock-order deadlocks with other threads.
  SMap m(64);
  m.insert(1, 1);
  int other = 2;
  while (m.shard_of(other) == m.shard_of(1))
    ++other;
  EXPECT_DEATH(m.visit(1, [&](const int &) { (void)m.contains(other); }),
               std::string(message) + "contains\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedUpdateThenInsert) {
  SMap m;
  m.insert(1, 1);
  EXPECT_DEATH(m.update(1, [&](int &) { m.insert(2, 2); }),
               std::string(message) + "insert\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedUpsertThenErase) {
  SMap m;
  EXPECT_DEATH(m.upsert(1, [&](int &) { m.erase(1); }),
               std::string(message) + "erase\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedForEachThenSize) {
  SMap m;
  m.insert(1, 1);
  EXPECT_DEATH(m.for_each([&](const int &, const int &) { (void)m.size(); }),
               std::string(message) + "size\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedForEachMutThenUpsert) {
  SMap m;
  m.insert(1, 1);
  EXPECT_DEATH(
      m.for_each_mut([&](const int &, int &) { m.upsert(5, [](int &) {}); }),
      std::string(message) + "upsert\\(\\)");
}

TEST_F(ReentrancyDeathTest, ShardedEraseIfThenVisit) {
  SMap m;
  m.insert(1, 1);
  EXPECT_DEATH(m.erase_if([&](const int &, const int &) {
    return m.visit(1, [](const int &) {});
  }),
               std::string(message) + "visit\\(\\)");
}

TEST_F(ReentrancyDeathTest, SnapshotUpdateThenInsert) {
  NMap m;
  EXPECT_DEATH(m.update([&](auto &) { m.insert(1, 1); }),
               std::string(snapshot_message) + "insert\\(\\)");
}

TEST_F(ReentrancyDeathTest, SnapshotUpdateThenRead) {
  NMap m;
  EXPECT_DEATH(m.update([&](auto &) { (void)m.get(1); }),
               std::string(snapshot_message) + "get\\(\\)");
}

TEST_F(ReentrancyDeathTest, SnapshotUpsertThenErase) {
  NMap m;
  EXPECT_DEATH(m.upsert(1, [&](int &) { m.erase(1); }),
               std::string(snapshot_message) + "erase\\(\\)");
}

// The checks must not fire where a call is legitimate.

TEST(ReentrancyAllowed, OtherMapsInsideCallbacks) {
  SMap a, b;
  a.insert(1, 1);
  b.insert(1, 10);
  a.visit(1, [&](const int &) { b.insert(2, 20); });
  a.update(1, [&](int &v) { v += b.at(1); });
  EXPECT_EQ(a.at(1), 11);
  EXPECT_EQ(b.size(), 2u);
}

TEST(ReentrancyAllowed, SequentialCallsAfterCallbacks) {
  SMap m;
  m.insert(1, 1);
  m.visit(1, [](const int &) {});
  m.for_each([](const int &, const int &) {});
  EXPECT_EQ(m.get(1), 1); // the held record was popped
}

TEST(ReentrancyAllowed, SnapshotReadCallbacksMayCallTheMap) {
  NMap m;
  m.insert(1, 1);
  m.visit(1, [&](const int &) {
    m.insert(2, 2);
    (void)m.get(2);
  });
  m.for_each([&](const int &, const int &) { (void)m.size(); });
  EXPECT_EQ(m.size(), 2u);
}

} // namespace
