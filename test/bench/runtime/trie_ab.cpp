// Wall-clock A/B of snapshot_map between two versions of the runtime
// headers in one process: tools/bench-runtime.sh --ab[=REV] compiles this
// file three times, once per side against that side's headers with the
// namespace renamed (-Dconcguard=concguard_ab_base / concguard_ab_current
// and -DCONCGUARD_AB_SIDE=base / current), and once without
// CONCGUARD_AB_SIDE for main(). The two sides' maps live side by side and
// their timed loops alternate, so a change of machine load (this machine is
// shared) affects both alike; a sharded_map of this tree's headers runs in
// the same rounds as the reference the targets are ratios to.
//
//   concguard_trie_ab KEYS READS WRITES ROUNDS
//
// Per round and side: READS visit calls of keys chosen by a fixed
// generator, then WRITES insert_or_assign calls of existing keys (each a
// published snapshot), timed separately. Prints every round, the medians and
// the fastest rounds.
#include <cstdint>
#include <vector>

#ifdef CONCGUARD_AB_SIDE
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <chrono>
#include <memory>

#define CONCGUARD_AB_CAT2(a, b) a##_##b
#define CONCGUARD_AB_CAT(a, b) CONCGUARD_AB_CAT2(a, b)
#define CONCGUARD_AB_FN(name) CONCGUARD_AB_CAT(name, CONCGUARD_AB_SIDE)

namespace {
using snap_t = concguard::snapshot_map<std::int64_t, std::int64_t>;
using shard_t = concguard::sharded_map<std::int64_t, std::int64_t>;
std::unique_ptr<snap_t> snap;
std::unique_ptr<shard_t> shard;

double nanos_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now() - t0)
      .count();
}
} // namespace

void CONCGUARD_AB_FN(load)(const std::vector<std::int64_t> &ids) {
  snap = std::make_unique<snap_t>();
  snap->update([&](auto &m) {
    for (std::int64_t k : ids)
      m.insert_or_assign(k, k);
  });
  shard = std::make_unique<shard_t>();
  shard->reserve(ids.size());
  for (std::int64_t k : ids)
    shard->insert_or_assign(k, k);
}

void CONCGUARD_AB_FN(unload)() {
  snap.reset();
  shard.reset();
  snap_t::release_thread_cache();
}

/// Nanoseconds per visit; `sharded` selects the sharded_map.
double CONCGUARD_AB_FN(reads)(const std::vector<std::int64_t> &keys,
                              bool sharded, std::uint64_t &sink) {
  const auto t0 = std::chrono::steady_clock::now();
  if (sharded)
    for (std::int64_t k : keys)
      shard->visit(k, [&](std::int64_t v) { sink += std::uint64_t(v); });
  else
    for (std::int64_t k : keys)
      snap->visit(k, [&](std::int64_t v) { sink += std::uint64_t(v); });
  return nanos_since(t0) / double(keys.size());
}

/// Nanoseconds per snapshot_map write.
double CONCGUARD_AB_FN(writes)(const std::vector<std::int64_t> &keys) {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t i = 0;
  for (std::int64_t k : keys)
    snap->insert_or_assign(k, ++i);
  return nanos_since(t0) / double(keys.size());
}

#else // main

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#define CONCGUARD_AB_DECLARE(side)                                             \
  void load_##side(const std::vector<std::int64_t> &);                         \
  void unload_##side();                                                        \
  double reads_##side(const std::vector<std::int64_t> &, bool,                 \
                      std::uint64_t &);                                        \
  double writes_##side(const std::vector<std::int64_t> &);
CONCGUARD_AB_DECLARE(base)
CONCGUARD_AB_DECLARE(current)

namespace {
std::uint64_t next(std::uint64_t &state) { // splitmix64
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The fastest round: on a shared machine a round is slowed by other
/// processes, never sped up, so the minimum is the least disturbed.
double fastest(const std::vector<double> &v) {
  return *std::min_element(v.begin(), v.end());
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s KEYS READS WRITES ROUNDS\n", argv[0]);
    return 2;
  }
  const std::size_t n = std::strtoull(argv[1], nullptr, 10);
  const std::size_t reads = std::strtoull(argv[2], nullptr, 10);
  const std::size_t writes = std::strtoull(argv[3], nullptr, 10);
  const int rounds = std::atoi(argv[4]);
  if (n == 0 || reads == 0 || rounds <= 0) {
    std::fprintf(stderr, "%s: KEYS, READS and ROUNDS must be positive\n",
                 argv[0]);
    return 2;
  }
  std::uint64_t state = 42;
  std::vector<std::int64_t> ids(n);
  for (auto &id : ids)
    id = std::int64_t(next(state));
  std::vector<std::int64_t> read_keys(reads), write_keys(writes);
  for (auto &k : read_keys)
    k = ids[next(state) % n];
  for (auto &k : write_keys)
    k = ids[next(state) % n];
  load_base(ids);
  load_current(ids);
  std::uint64_t sink = 0;
  std::vector<double> rb, rc, rs, wb, wc;
  for (int r = 0; r < rounds; ++r) {
    rb.push_back(reads_base(read_keys, false, sink));
    rc.push_back(reads_current(read_keys, false, sink));
    rs.push_back(reads_current(read_keys, true, sink));
    if (writes != 0) {
      wb.push_back(writes_base(write_keys));
      wc.push_back(writes_current(write_keys));
    }
    std::printf("round %d: read ns base %.1f current %.1f sharded %.1f", r,
                rb.back(), rc.back(), rs.back());
    if (writes != 0)
      std::printf("; write ns base %.0f current %.0f", wb.back(), wc.back());
    std::printf("\n");
  }
  for (auto [what, pick] :
       {std::pair<const char *, double (*)(const std::vector<double> &)>{
            "medians", [](const std::vector<double> &v) { return median(v); }},
        {"fastest", fastest}}) {
    std::printf("%zu keys, %s of %d rounds: read ns base %.1f current %.1f "
                "(current/base %.2f), sharded_map %.1f (snapshot/sharded "
                "speed: base %.2f, current %.2f)",
                n, what, rounds, pick(rb), pick(rc), pick(rc) / pick(rb),
                pick(rs), pick(rs) / pick(rb), pick(rs) / pick(rc));
    if (writes != 0)
      std::printf("; write ns base %.0f current %.0f (current/base %.2f)",
                  pick(wb), pick(wc), pick(wc) / pick(wb));
    std::printf("\n");
  }
  unload_base();
  unload_current();
  return sink == 42 ? 3 : 0; // keeps the reads
}
#endif
