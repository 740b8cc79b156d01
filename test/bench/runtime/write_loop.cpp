// A fixed snapshot_map write loop, for counting instructions with callgrind
// (wall-clock time on a shared machine is too noisy to compare two builds of
// the trie): tools/bench-runtime.sh --callgrind runs it under
// `valgrind --tool=callgrind` with 0 and with N writes and reports the
// difference divided by N, i.e. the instructions of one write, for the
// current headers and for a baseline revision's, side by side.
//
//   concguard_snapshot_write_loop VALUE KEYS WRITES [read]
//
// VALUE is i64 (inline entries) or str (boxed 24-character strings). The map
// is loaded with KEYS keys (64-bit mixed ids, one batch), then WRITES
// insert_or_assign calls overwrite keys chosen by a fixed generator; the
// replaced versions are freed by the writer itself (no reader holds them).
// With `read`, the loop does WRITES visit calls of such keys instead (one
// snapshot_map read each, the thread's cached snapshot always current).
// It also prints the wall-clock time per operation (noisy; a quick look).
#include "concguard/snapshot_map.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::uint64_t next(std::uint64_t &state) {
  // splitmix64: fixed sequence, the same in every build.
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <class V> V value_of(std::uint64_t x);
template <> std::int64_t value_of<std::int64_t>(std::uint64_t x) {
  return std::int64_t(x);
}
template <> std::string value_of<std::string>(std::uint64_t x) {
  return std::string(24, char('a' + x % 26));
}

template <class V> int run(std::size_t keys, std::size_t writes, bool reads) {
  std::uint64_t state = 42;
  std::vector<std::int64_t> ids(keys);
  for (auto &id : ids)
    id = std::int64_t(next(state));
  concguard::snapshot_map<std::int64_t, V> m;
  m.update([&](auto &mm) {
    for (std::size_t i = 0; i < keys; ++i)
      mm.insert_or_assign(ids[i], value_of<V>(i));
  });
  std::size_t seen = 0;
  const auto start = std::chrono::steady_clock::now();
  if (reads) {
    for (std::size_t i = 0; i < writes; ++i)
      m.visit(ids[next(state) % keys], [&](const V &) { ++seen; });
  } else {
    for (std::size_t i = 0; i < writes; ++i)
      m.insert_or_assign(ids[next(state) % keys], value_of<V>(i));
  }
  const std::chrono::duration<double, std::nano> elapsed =
      std::chrono::steady_clock::now() - start;
  if (reads && seen != writes)
    return 1;
  std::size_t found = 0;
  for (std::size_t i = 0; i < 16; ++i)
    found += m.contains(ids[i % keys]) ? 1 : 0;
  std::printf("%zu keys, %zu %s, %zu found, %.0f ns each\n", m.size(), writes,
              reads ? "reads" : "writes", found,
              writes == 0 ? 0.0 : elapsed.count() / double(writes));
  return found == 16 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  const bool reads = argc == 5 && std::strcmp(argv[4], "read") == 0;
  if ((argc != 4 && !reads) ||
      (std::strcmp(argv[1], "i64") != 0 && std::strcmp(argv[1], "str") != 0)) {
    std::fprintf(stderr, "usage: %s i64|str KEYS WRITES [read]\n", argv[0]);
    return 2;
  }
  const std::size_t keys = std::strtoull(argv[2], nullptr, 10);
  const std::size_t writes = std::strtoull(argv[3], nullptr, 10);
  if (keys == 0) {
    std::fprintf(stderr, "%s: KEYS must be at least 1\n", argv[0]);
    return 2;
  }
  return std::strcmp(argv[1], "i64") == 0
             ? run<std::int64_t>(keys, writes, reads)
             : run<std::string>(keys, writes, reads);
}
