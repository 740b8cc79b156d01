// Tests of concguard::synchronized<T>: a value reached only through a
// callback under its lock, or as a copy.
#include "concguard/synchronized.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <list>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

TEST(Synchronized, WithLockWritesAndReturnsACopy) {
  concguard::synchronized<std::vector<int>> Values;
  Values.with_lock([](auto &V) { V.push_back(1); });
  std::size_t Size = Values.with_lock([](auto &V) {
    V.push_back(2);
    return V.size();
  });
  EXPECT_EQ(Size, 2u);
  EXPECT_EQ(Values.copy(), (std::vector<int>{1, 2}));
}

TEST(Synchronized, WithSharedLockSeesAConstValue) {
  concguard::synchronized<std::string> Text(std::string("abc"));
  auto Length = Text.with_shared_lock([](auto &S) {
    static_assert(std::is_const_v<std::remove_reference_t<decltype(S)>>,
                  "a read callback gets a const value");
    return S.size();
  });
  EXPECT_EQ(Length, 3u);
}

TEST(Synchronized, CopyAndAssignAreValues) {
  concguard::synchronized<std::set<int>> A(std::in_place, std::set<int>{3, 1});
  concguard::synchronized<std::set<int>> B(A);
  A.with_lock([](auto &S) { S.insert(2); });
  EXPECT_EQ(B.copy(), (std::set<int>{1, 3}));
  B = A;
  EXPECT_EQ(B.copy(), (std::set<int>{1, 2, 3}));
  B.assign({7});
  EXPECT_EQ(B.copy(), (std::set<int>{7}));
  EXPECT_EQ(A.copy().size(), 3u);
}

TEST(Synchronized, ExceptionReleasesTheLock) {
  concguard::synchronized<std::deque<int>> Queue;
  EXPECT_THROW(Queue.with_lock([](auto &Q) {
    Q.push_back(1);
    throw std::runtime_error("callback");
  }),
               std::runtime_error);
  // The lock is free again, and what the callback did before it threw
  // stays.
  EXPECT_EQ(Queue.with_shared_lock([](const auto &Q) { return Q.size(); }), 1u);
}

// Several writers and readers at once: every write is counted, and
// ThreadSanitizer (runtime.synchronized.tsan) sees no race.
TEST(Synchronized, ConcurrentWritersAndReaders) {
  concguard::synchronized<std::list<int>> Log;
  constexpr int Threads = 4, PerThread = 2000;
  std::vector<std::thread> Workers;
  for (int T = 0; T < Threads; ++T)
    Workers.emplace_back([&Log, T] {
      for (int I = 0; I < PerThread; ++I) {
        Log.with_lock([&](auto &L) { L.push_back(T); });
        std::size_t Seen =
            Log.with_shared_lock([](const auto &L) { return L.size(); });
        ASSERT_GE(Seen, 1u);
      }
    });
  for (std::thread &W : Workers)
    W.join();
  std::list<int> All = Log.copy();
  EXPECT_EQ(All.size(), static_cast<std::size_t>(Threads * PerThread));
}

} // namespace
