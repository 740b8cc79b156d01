// Benchmark of the concguard runtime against lock-wrapped maps, TBB,
// libcuckoo and single-threaded floors, in one run, with the ratio table
// computed from that same run.
//
//   concguard_runtime_bench [--table=FILE] [--quick] [google benchmark flags]
//
// Matrix: values int64 and vector<string> (three 24-char strings); 10k and
// 1M keys; uniform and Zipf(0.99) key choice; mixes 100% visit, 100% get
// (copy), 99.9/0.1, 99/1, 90/10, 50/50 read/write (reads are zero-copy visits,
// writes insert_or_assign an existing key) and insert-only growth from
// empty; 1 and 2 threads. Each measured batch is timed from a common start
// of all threads to the end of the last one (manual time); throughput is
// total operations / that time.
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"

#include <absl/container/flat_hash_map.h>
#include <benchmark/benchmark.h>
#include <libcuckoo/cuckoohash_map.hh>
#include <tbb/concurrent_hash_map.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using i64 = std::int64_t;
using vstr = std::vector<std::string>;
using clock_type = std::chrono::steady_clock;

//===-- Values
//-------------------------------------------------------------===//

template <class V> V prototype_value(i64 key);
template <> i64 prototype_value<i64>(i64 key) { return key; }
template <> vstr prototype_value<vstr>(i64 key) {
  // Three 24-character strings: too long for the small-string buffer, so a
  // copy of the value is four allocations.
  std::string s(24, char('a' + (key & 15)));
  return vstr{s, s, s};
}

inline void consume(const i64 &v, std::uint64_t &sink) {
  sink += std::uint64_t(v);
}
inline void consume(const vstr &v, std::uint64_t &sink) {
  sink += v.size() + std::uint64_t(v[2][23]);
}

//===-- Implementations under test
//-----------------------------------------===//
// Each adapter: insert(k, v), visit(k, sink), get(k, sink), write(k, v),
// bulk_load(keys, v); `concurrent` tells whether it may run on 2 threads.

template <class V, class Lock>
using basic_sharded =
    concguard::detail::basic_sharded_map<i64, V, std::hash<i64>,
                                         std::equal_to<i64>, Lock>;

/// sharded_map itself (optimistic shards for int64 values) when Lock is its
/// own rw_spinlock; the basic implementation with another lock otherwise.
template <class V, class Lock>
using sharded_impl =
    std::conditional_t<std::is_same_v<Lock, concguard::detail::rw_spinlock>,
                       concguard::sharded_map<i64, V>, basic_sharded<V, Lock>>;

template <class V, class Lock, std::size_t Shards> struct sharded_adapter {
  static constexpr bool concurrent = true;
  sharded_impl<V, Lock> m{Shards};
  void insert(i64 k, const V &v) { m.insert(k, v); }
  void visit(i64 k, std::uint64_t &sink) const {
    m.visit(k, [&](const V &v) { consume(v, sink); });
  }
  void get(i64 k, std::uint64_t &sink) const {
    if (auto v = m.get(k))
      consume(*v, sink);
  }
  void write(i64 k, const V &v) { m.insert_or_assign(k, v); }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.reserve(keys.size());
    for (i64 k : keys)
      m.insert(k, v);
  }
};

template <class V> struct snapshot_adapter {
  static constexpr bool concurrent = true;
  concguard::snapshot_map<i64, V> m;
  void insert(i64 k, const V &v) { m.insert(k, v); }
  void visit(i64 k, std::uint64_t &sink) const {
    m.visit(k, [&](const V &v) { consume(v, sink); });
  }
  void get(i64 k, std::uint64_t &sink) const {
    if (auto v = m.get(k))
      consume(*v, sink);
  }
  void write(i64 k, const V &v) { m.insert_or_assign(k, v); }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.update([&](auto &mm) { // one batch
      for (i64 k : keys)
        mm.emplace(k, v);
    });
  }
};

template <class V, class Mutex, bool Shared> struct global_lock_adapter {
  static constexpr bool concurrent = true;
  mutable Mutex mu;
  std::unordered_map<i64, V> m;
  template <class F> void read(F &&f) const {
    if constexpr (Shared) {
      std::shared_lock<Mutex> l(mu);
      f();
    } else {
      std::lock_guard<Mutex> l(mu);
      f();
    }
  }
  void insert(i64 k, const V &v) {
    std::lock_guard<Mutex> l(mu);
    m.emplace(k, v);
  }
  void visit(i64 k, std::uint64_t &sink) const {
    read([&] {
      auto it = m.find(k);
      if (it != m.end())
        consume(it->second, sink);
    });
  }
  void get(i64 k, std::uint64_t &sink) const {
    std::optional<V> out;
    read([&] {
      auto it = m.find(k);
      if (it != m.end())
        out = it->second;
    });
    if (out)
      consume(*out, sink);
  }
  void write(i64 k, const V &v) {
    std::lock_guard<Mutex> l(mu);
    m.insert_or_assign(k, v);
  }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.reserve(keys.size());
    for (i64 k : keys)
      m.emplace(k, v);
  }
};

template <class V> struct tbb_adapter {
  static constexpr bool concurrent = true;
  using map_t = tbb::concurrent_hash_map<i64, V>;
  map_t m;
  void insert(i64 k, const V &v) { m.insert(std::make_pair(k, v)); }
  void visit(i64 k, std::uint64_t &sink) const {
    typename map_t::const_accessor a;
    if (m.find(a, k))
      consume(a->second, sink);
  }
  void get(i64 k, std::uint64_t &sink) const {
    std::optional<V> out;
    {
      typename map_t::const_accessor a;
      if (m.find(a, k))
        out = a->second;
    }
    if (out)
      consume(*out, sink);
  }
  void write(i64 k, const V &v) {
    typename map_t::accessor a;
    m.insert(a, k);
    a->second = v;
  }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.rehash(keys.size());
    for (i64 k : keys)
      insert(k, v);
  }
};

template <class V> struct cuckoo_adapter {
  static constexpr bool concurrent = true;
  libcuckoo::cuckoohash_map<i64, V> m;
  void insert(i64 k, const V &v) { m.insert(k, v); }
  void visit(i64 k, std::uint64_t &sink) const {
    m.find_fn(k, [&](const V &v) { consume(v, sink); });
  }
  void get(i64 k, std::uint64_t &sink) const {
    V out;
    if (m.find(k, out))
      consume(out, sink);
  }
  void write(i64 k, const V &v) { m.insert_or_assign(k, v); }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.reserve(keys.size());
    for (i64 k : keys)
      m.insert(k, v);
  }
};

template <class V, class Map> struct nolock_adapter {
  static constexpr bool concurrent = false;
  Map m;
  void insert(i64 k, const V &v) { m.emplace(k, v); }
  void visit(i64 k, std::uint64_t &sink) const {
    auto it = m.find(k);
    if (it != m.end())
      consume(it->second, sink);
  }
  void get(i64 k, std::uint64_t &sink) const {
    std::optional<V> out;
    auto it = m.find(k);
    if (it != m.end())
      out = it->second;
    if (out)
      consume(*out, sink);
  }
  void write(i64 k, const V &v) { m.insert_or_assign(k, v); }
  void bulk_load(const std::vector<i64> &keys, const V &v) {
    m.reserve(keys.size());
    for (i64 k : keys)
      m.emplace(k, v);
  }
};

//===-- Workloads
//-----------------------------------------------------------===//

enum class Mix { Visit, Get, R999, R99, R90, R50, Insert };
const char *mix_name(Mix m) {
  switch (m) {
  case Mix::Visit:
    return "visit";
  case Mix::Get:
    return "get";
  case Mix::R999:
    return "99.9/0.1";
  case Mix::R99:
    return "99/1";
  case Mix::R90:
    return "90/10";
  case Mix::R50:
    return "50/50";
  case Mix::Insert:
    return "insert";
  }
  return "?";
}
// Per mille of operations that write.
unsigned write_permille(Mix m) {
  switch (m) {
  case Mix::R999:
    return 1;
  case Mix::R99:
    return 10;
  case Mix::R90:
    return 100;
  case Mix::R50:
    return 500;
  default:
    return 0;
  }
}

/// A bijective 64-bit mix: key i of the key set (so keys are spread over the
/// whole 64-bit range, like real ids, and hot Zipf ranks are not adjacent).
i64 key_of(std::uint64_t i) {
  std::uint64_t x = i + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return i64(x ^ (x >> 31));
}

const std::vector<i64> &key_set(std::size_t n) {
  static std::map<std::size_t, std::vector<i64>> sets;
  auto &v = sets[n];
  if (v.empty()) {
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      v[i] = key_of(i);
  }
  return v;
}

const std::vector<double> &zipf_cdf(std::size_t n) {
  static std::map<std::size_t, std::vector<double>> cdfs;
  auto &c = cdfs[n];
  if (c.empty()) {
    c.resize(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sum += 1.0 / std::pow(double(i + 1), 0.99);
      c[i] = sum;
    }
  }
  return c;
}

struct Op {
  i64 key;
  std::uint32_t write; // 1: write, 0: read
};

constexpr std::size_t stream_len = std::size_t(1) << 16;
constexpr std::size_t batch_ops = std::size_t(1) << 17; // per thread

std::vector<Op> make_stream(std::size_t n, bool zipf, Mix mix, int thread) {
  const auto &keys = key_set(n);
  std::mt19937_64 rng(std::uint64_t(thread) * 1000003u + n + (zipf ? 7 : 0));
  std::vector<Op> ops(stream_len);
  const unsigned wp = write_permille(mix);
  if (zipf) {
    const auto &cdf = zipf_cdf(n);
    std::uniform_real_distribution<double> u(0, cdf.back());
    for (auto &op : ops) {
      auto rank = std::size_t(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) -
                              cdf.begin());
      op.key = keys[std::min(rank, n - 1)];
    }
  } else {
    for (auto &op : ops)
      op.key = keys[rng() % n];
  }
  for (auto &op : ops)
    op.write = (rng() % 1000) < wp ? 1 : 0;
  return ops;
}

/// Runs body(t) on `threads` threads started together; returns the seconds
/// from the common start to the end of the slowest thread.
template <class F> double run_parallel(int threads, F &&body) {
  if (threads == 1) {
    auto t0 = clock_type::now();
    body(0);
    return std::chrono::duration<double>(clock_type::now() - t0).count();
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<clock_type::time_point> finish(static_cast<std::size_t>(threads));
  std::vector<std::thread> helpers;
  for (int t = 1; t < threads; ++t)
    helpers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        concguard::detail::cpu_relax();
      body(t);
      finish[std::size_t(t)] = clock_type::now();
    });
  while (ready.load() != threads - 1)
    std::this_thread::yield();
  const auto t0 = clock_type::now();
  go.store(true, std::memory_order_release);
  body(0);
  finish[0] = clock_type::now();
  for (auto &h : helpers)
    h.join();
  return std::chrono::duration<double>(
             *std::max_element(finish.begin(), finish.end()) - t0)
      .count();
}

/// How much parallelism the machine really gives this process right now:
/// the throughput of 2 threads of pure ALU work over that of 1 thread (2.0 on
/// two idle cores, ~1.0 when other processes occupy one of them).
double alu_parallel_speedup() {
  auto work = [](int) {
    std::uint64_t x = 1;
    for (int i = 0; i < 50000000; ++i)
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    benchmark::DoNotOptimize(x);
  };
  const double one = run_parallel(1, work);
  const double two = run_parallel(2, work);
  return 2 * one / two;
}

//===-- Prefilled instances, reused across the cells of one (impl, V, N)
//----===//

/// Prefilled maps of the current (value type, key count) group, one per
/// implementation, kept while the cells of that group run (all
/// implementations of a cell run back to back, so a change in machine load
/// affects them alike) and freed when the next group starts.
struct prefilled_cache {
  std::string group;
  std::map<std::string, std::shared_ptr<void>> maps;
};
prefilled_cache &cache() {
  static prefilled_cache c;
  return c;
}

template <class Impl, class V>
Impl &prefilled(const std::string &impl, const std::string &group,
                std::size_t n) {
  auto &c = cache();
  if (c.group != group) {
    c.maps.clear(); // free the previous group first
    c.group = group;
  }
  auto &slot = c.maps[impl];
  if (!slot) {
    auto made = std::make_shared<Impl>();
    made->bulk_load(key_set(n), prototype_value<V>(0));
    slot = made;
  }
  return *static_cast<Impl *>(slot.get());
}

struct Cell {
  std::string value; // "i64" or "vstr"
  std::size_t n;
  bool zipf;
  Mix mix;
  int threads;
};

template <class Impl, class V>
void run_cell(benchmark::State &state, const std::string &impl_name, Cell c) {
  std::uint64_t sink = 0;
  const V value = prototype_value<V>(1);
  if (c.mix == Mix::Insert) {
    // Growth from empty. Small key sets are inserted into several fresh maps
    // per timed batch so that a batch lasts long enough to measure.
    const auto &keys = key_set(c.n);
    const std::size_t rounds = std::max<std::size_t>(1, 200000 / c.n);
    for (auto _ : state) {
      std::vector<std::unique_ptr<Impl>> maps;
      for (std::size_t r = 0; r < rounds; ++r)
        maps.push_back(std::make_unique<Impl>());
      const double secs = run_parallel(c.threads, [&](int t) {
        for (auto &m : maps)
          for (std::size_t i = std::size_t(t); i < keys.size();
               i += std::size_t(c.threads))
            m->insert(keys[i], value);
      });
      state.SetIterationTime(secs);
      maps.clear(); // not timed (manual time)
    }
    state.SetItemsProcessed(state.iterations() * i64(c.n * rounds));
    return;
  }
  Impl &impl =
      prefilled<Impl, V>(impl_name, c.value + "/" + std::to_string(c.n), c.n);
  std::vector<std::vector<Op>> streams;
  for (int t = 0; t < c.threads; ++t)
    streams.push_back(make_stream(c.n, c.zipf, c.mix, t));
  std::size_t offset = 0;
  for (auto _ : state) {
    const double secs = run_parallel(c.threads, [&](int t) {
      const auto &ops = streams[std::size_t(t)];
      std::uint64_t local = 0;
      for (std::size_t i = 0; i < batch_ops; ++i) {
        const Op &op = ops[(offset + i) & (stream_len - 1)];
        if (op.write)
          impl.write(op.key, value);
        else if (c.mix == Mix::Get)
          impl.get(op.key, local);
        else
          impl.visit(op.key, local);
      }
      benchmark::DoNotOptimize(local);
      if (t == 0)
        sink += local;
    });
    offset += batch_ops;
    state.SetIterationTime(secs);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * i64(batch_ops) * c.threads);
}

//===-- Registration
//----------------------------------------------------------===//

struct Result {
  double mops = 0;
};
std::map<std::string, Result> &results() {
  static std::map<std::string, Result> r;
  return r;
}

std::string cell_name(const std::string &impl, const Cell &c) {
  std::ostringstream os;
  std::string mix = mix_name(c.mix); // "90/10" -> "90-10": one name segment
  for (char &ch : mix)
    if (ch == '/')
      ch = '-';
  os << impl << "/" << c.value << "/" << (c.n >= 1000000 ? "1M" : "10k") << "/"
     << (c.mix == Mix::Insert ? "distinct"
         : c.zipf             ? "zipf"
                              : "uniform")
     << "/" << mix << "/t" << c.threads;
  return os.str();
}

double min_time = 0.1;
bool quick = false;

const std::vector<Mix> all_mixes = {Mix::Visit, Mix::Get, Mix::R999,  Mix::R99,
                                    Mix::R90,   Mix::R50, Mix::Insert};

/// Whether an implementation takes part in a cell.
enum class Role { Full, LockChoice };

bool takes_part(Role role, const Cell &c) {
  switch (role) {
  case Role::Full:
    return true;
  case Role::LockChoice:
    return c.value == "i64" &&
           (c.mix == Mix::Visit || c.mix == Mix::R90 || c.mix == Mix::R50);
  }
  return false;
}

/// Registers the benchmark of one implementation for one cell, if it takes
/// part in it.
using registrar = std::function<void(const Cell &)>;

template <class Impl, class V>
registrar make_registrar(const std::string &impl, Role role = Role::Full) {
  return [impl, role](const Cell &c) {
    if ((c.threads > 1 && !Impl::concurrent) || !takes_part(role, c))
      return;
    benchmark::RegisterBenchmark(
        cell_name(impl, c).c_str(),
        [impl, c](benchmark::State &st) { run_cell<Impl, V>(st, impl, c); })
        ->UseManualTime()
        ->MinTime(min_time)
        ->Unit(benchmark::kMicrosecond);
  };
}

constexpr std::size_t default_shards =
    concguard::sharded_map<i64, i64>::default_shard_count;
constexpr std::size_t fewer_shards = default_shards / 4;
constexpr std::size_t more_shards = default_shards * 4;

std::string shards_name(std::size_t s) { return "sharded" + std::to_string(s); }

template <class V> std::vector<registrar> registrars() {
  using rw = concguard::detail::rw_spinlock;
  using excl = concguard::detail::exclusive_as_shared<std::mutex>;
  return {
      make_registrar<sharded_adapter<V, rw, default_shards>, V>(
          shards_name(default_shards)),
      make_registrar<sharded_adapter<V, rw, fewer_shards>, V>(
          shards_name(fewer_shards)),
      make_registrar<sharded_adapter<V, rw, more_shards>, V>(
          shards_name(more_shards)),
      make_registrar<sharded_adapter<V, std::shared_mutex, default_shards>, V>(
          "sharded_sharedmutex", Role::LockChoice),
      make_registrar<sharded_adapter<V, excl, default_shards>, V>(
          "sharded_mutex", Role::LockChoice),
      make_registrar<snapshot_adapter<V>, V>("snapshot"),
      make_registrar<global_lock_adapter<V, std::shared_mutex, true>, V>(
          "global_sharedmutex"),
      make_registrar<global_lock_adapter<V, std::mutex, false>, V>(
          "global_mutex"),
      make_registrar<tbb_adapter<V>, V>("tbb"),
      make_registrar<cuckoo_adapter<V>, V>("cuckoo"),
      make_registrar<nolock_adapter<V, std::unordered_map<i64, V>>, V>(
          "nolock_unordered"),
      make_registrar<nolock_adapter<V, absl::flat_hash_map<i64, V>>, V>(
          "nolock_absl"),
  };
}

/// Cell-major order: every implementation of a cell runs back to back.
template <class V> void register_all(const std::string &value) {
  const auto regs = registrars<V>();
  for (std::size_t n : {std::size_t(10000), std::size_t(1000000)}) {
    if (quick && n > 10000)
      continue;
    for (Mix mix : all_mixes)
      for (bool zipf : {false, true}) {
        if (mix == Mix::Insert && zipf)
          continue; // inserts take distinct keys: no key distribution
        for (int threads : {1, 2})
          for (const auto &reg : regs)
            reg(Cell{value, n, zipf, mix, threads});
      }
  }
}

/// Console output as usual, plus every result kept for the ratio table.
class collecting_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run> &runs) override {
    for (const Run &r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration)
        continue;
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end())
        continue;
      // The name carries "/min_time:.../manual_time" after the cell name.
      std::string name = r.benchmark_name();
      name = name.substr(0, name.find("/min_time:"));
      results()[name].mops = it->second.value / 1e6;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

//===-- The ratio table
//---------------------------------------------------------===//

std::optional<double> mops(const std::string &impl, const Cell &c) {
  auto it = results().find(cell_name(impl, c));
  if (it == results().end() || it->second.mops <= 0)
    return std::nullopt;
  return it->second.mops;
}

std::string fmt(std::optional<double> v, int prec = 2) {
  if (!v)
    return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", prec, *v);
  return buf;
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b)
    return std::nullopt;
  return *a / *b;
}

struct Target {
  std::string what;
  double threshold;
  std::vector<std::pair<std::string, double>> cells; // name, ratio
};

double speedup_before = 0, speedup_after = 0;

void print_table(std::ostream &out) {
  const std::string shd = shards_name(default_shards);
  const std::vector<std::string> impls = {shd,
                                          shards_name(fewer_shards),
                                          shards_name(more_shards),
                                          "sharded_sharedmutex",
                                          "sharded_mutex",
                                          "snapshot",
                                          "global_sharedmutex",
                                          "global_mutex",
                                          "tbb",
                                          "cuckoo",
                                          "nolock_unordered",
                                          "nolock_absl"};

  Target t_shared{
      "sharded_map / global shared_mutex map, 90/10, 2 threads", 1.5, {}};
  Target t_tbb{
      "sharded_map / tbb::concurrent_hash_map, every int64 cell", 1.0, {}};
  Target t_cuckoo{"sharded_map / libcuckoo, every int64 cell", 1.0, {}};
  Target t_scale{"sharded_map 2 threads / 1 thread, every cell", 1.0, {}};
  Target t_snap_scale{"snapshot_map 100% reads, 2 threads / 1 thread", 1.8, {}};
  Target t_snap_shared{
      "snapshot_map 100% reads / global shared_mutex map, 2 threads", 3.0, {}};
  Target t_floor{"vector<string> get: sharded_map / no-lock unordered_map "
                 "(1 thread; >= 1/1.3)",
                 1 / 1.3,
                 {}};
  // Issue 21.
  Target t_snap_999{
      "snapshot_map / sharded_map, int64, 99.9/0.1, 2 threads", 0.5, {}};
  Target t_snap_99{
      "snapshot_map / global std::mutex map, int64, 99/1, 2 threads", 1.0, {}};
  Target t_snap_read{
      "snapshot_map / sharded_map, int64, 100% visit, 2 threads", 2.5, {}};
  Target t_shd_gm1{
      "sharded_map / global std::mutex map, int64, 90/10, 1 thread", 1.0, {}};
  Target t_shd_tbb1{"sharded_map / tbb, int64, 90/10, 1 thread", 1.2, {}};
  Target t_shd_cuckoo1{
      "sharded_map / libcuckoo, int64, 90/10, 1 thread", 1.2, {}};
  Target t_shd_tbb2{"sharded_map / tbb, int64, every 2-thread cell", 1.0, {}};
  Target t_shd_cuckoo2{
      "sharded_map / libcuckoo, int64, every 2-thread cell", 1.0, {}};
  Target t_vstr_tbb{
      "sharded_map / tbb, vector<string>, 90/10 visit, 2 threads", 1.0, {}};
  Target t_vstr_cuckoo{
      "sharded_map / libcuckoo, vector<string>, 90/10 visit, 2 threads",
      1.0,
      {}};
  // Per (value, keys, distribution, threads): snapshot_map / sharded_map at
  // each write fraction, for the rewriter's policy threshold.
  std::map<std::string, std::map<unsigned, double>> crossover;

  out << "Throughput in Mops/s (higher is better); `—` = not run (see "
         "docs/runtime.md).\n\n"
      << "Parallelism available to this run (2-thread/1-thread speed-up of "
         "pure ALU work): "
      << fmt(speedup_before) << " before, " << fmt(speedup_after)
      << " after (2.00 = two idle cores).\n";
  for (const char *value : {"i64", "vstr"})
    for (std::size_t n : {std::size_t(10000), std::size_t(1000000)}) {
      out << "\n### "
          << (std::string(value) == "i64" ? "int64" : "vector<string>")
          << " values, " << (n >= 1000000 ? "1M" : "10k") << " keys\n\n";
      out << "| dist | mix | thr |";
      for (auto &i : impls)
        out << " " << i << " |";
      out << " shd/gsm | shd/gm | shd/tbb | shd/cuckoo | shd 2t/1t | snap/gsm "
             "| "
             "snap 2t/1t | snap/shd | snap/gm | shd/floor |\n|";
      for (std::size_t i = 0; i < impls.size() + 13; ++i)
        out << "---|";
      out << "\n";
      for (bool zipf : {false, true})
        for (Mix mix : all_mixes)
          for (int threads : {1, 2}) {
            if (mix == Mix::Insert && zipf)
              continue;
            Cell c{value, n, zipf, mix, threads};
            Cell c1 = c;
            c1.threads = 1;
            bool any = false;
            std::ostringstream row;
            row << "| "
                << (mix == Mix::Insert ? "—"
                    : zipf             ? "zipf"
                                       : "uniform")
                << " | " << mix_name(mix) << " | " << threads << " |";
            for (auto &i : impls) {
              auto v = mops(i, c);
              any |= bool(v);
              row << " " << fmt(v) << " |";
            }
            if (!any)
              continue;
            const auto s = mops(shd, c);
            const auto r_gsm = ratio(s, mops("global_sharedmutex", c));
            const auto r_gm = ratio(s, mops("global_mutex", c));
            const auto r_tbb = ratio(s, mops("tbb", c));
            const auto r_cuckoo = ratio(s, mops("cuckoo", c));
            const auto r_scale =
                threads == 2 ? ratio(s, mops(shd, c1)) : std::nullopt;
            const auto snap = mops("snapshot", c);
            const auto r_snap_gsm = ratio(snap, mops("global_sharedmutex", c));
            const auto r_snap_scale =
                threads == 2 ? ratio(snap, mops("snapshot", c1)) : std::nullopt;
            const auto r_snap_shd = ratio(snap, s);
            const auto r_snap_gm = ratio(snap, mops("global_mutex", c));
            const auto r_floor = threads == 1
                                     ? ratio(s, mops("nolock_unordered", c))
                                     : std::nullopt;
            row << " " << fmt(r_gsm) << " | " << fmt(r_gm) << " | "
                << fmt(r_tbb) << " | " << fmt(r_cuckoo) << " | " << fmt(r_scale)
                << " | " << fmt(r_snap_gsm) << " | " << fmt(r_snap_scale)
                << " | " << fmt(r_snap_shd) << " | " << fmt(r_snap_gm) << " | "
                << fmt(r_floor) << " |";
            out << row.str() << "\n";

            const std::string name = cell_name("", c).substr(1);
            if (mix == Mix::R90 && threads == 2 && r_gsm)
              t_shared.cells.emplace_back(name, *r_gsm);
            if (std::string(value) == "i64") {
              if (r_tbb)
                t_tbb.cells.emplace_back(name, *r_tbb);
              if (r_cuckoo)
                t_cuckoo.cells.emplace_back(name, *r_cuckoo);
            }
            if (r_scale)
              t_scale.cells.emplace_back(name, *r_scale);
            if ((mix == Mix::Visit || mix == Mix::Get) && threads == 2) {
              if (r_snap_scale)
                t_snap_scale.cells.emplace_back(name, *r_snap_scale);
              if (r_snap_gsm)
                t_snap_shared.cells.emplace_back(name, *r_snap_gsm);
            }
            if (std::string(value) == "vstr" && mix == Mix::Get && r_floor)
              t_floor.cells.emplace_back(name, *r_floor);
            const bool i64 = std::string(value) == "i64";
            auto add = [&](Target &t, bool when, std::optional<double> r) {
              if (when && r)
                t.cells.emplace_back(name, *r);
            };
            add(t_snap_999, i64 && mix == Mix::R999 && threads == 2,
                r_snap_shd);
            add(t_snap_99, i64 && mix == Mix::R99 && threads == 2, r_snap_gm);
            add(t_snap_read, i64 && mix == Mix::Visit && threads == 2,
                r_snap_shd);
            add(t_shd_gm1, i64 && mix == Mix::R90 && threads == 1, r_gm);
            add(t_shd_tbb1, i64 && mix == Mix::R90 && threads == 1, r_tbb);
            add(t_shd_cuckoo1, i64 && mix == Mix::R90 && threads == 1,
                r_cuckoo);
            add(t_shd_tbb2, i64 && threads == 2, r_tbb);
            add(t_shd_cuckoo2, i64 && threads == 2, r_cuckoo);
            add(t_vstr_tbb, !i64 && mix == Mix::R90 && threads == 2, r_tbb);
            add(t_vstr_cuckoo, !i64 && mix == Mix::R90 && threads == 2,
                r_cuckoo);
            if (r_snap_shd && mix != Mix::Get && mix != Mix::Insert) {
              std::ostringstream key;
              key << value << "/" << (n >= 1000000 ? "1M" : "10k") << "/"
                  << (zipf ? "zipf" : "uniform") << "/t" << threads;
              crossover[key.str()][write_permille(mix)] = *r_snap_shd;
            }
          }
    }

  out << "\n### Targets (ratios from this run)\n\n"
      << "| target | threshold | cells | met | worst cell | worst ratio |\n"
      << "|---|---|---|---|---|---|\n";
  for (Target *t : {&t_snap_999, &t_snap_99, &t_snap_read, &t_shd_gm1,
                    &t_shd_tbb1, &t_shd_cuckoo1, &t_shd_tbb2, &t_shd_cuckoo2,
                    &t_vstr_tbb, &t_vstr_cuckoo, &t_shared, &t_tbb, &t_cuckoo,
                    &t_scale, &t_snap_scale, &t_snap_shared, &t_floor}) {
    if (t->cells.empty()) {
      out << "| " << t->what << " | " << fmt(t->threshold)
          << " | 0 | — | — | — |\n";
      continue;
    }
    std::size_t met = 0;
    auto worst = t->cells.front();
    for (auto &cell : t->cells) {
      met += cell.second >= t->threshold;
      if (cell.second < worst.second)
        worst = cell;
    }
    out << "| " << t->what << " | " << fmt(t->threshold) << " | "
        << t->cells.size() << " | " << met << "/" << t->cells.size()
        << (met == t->cells.size() ? " PASS" : " MISS") << " | " << worst.first
        << " | " << fmt(worst.second) << " |\n";
    for (auto &cell : t->cells)
      if (cell.second < t->threshold)
        out << "|  ↳ missed | | | | " << cell.first << " | " << fmt(cell.second)
            << " |\n";
  }
  out << "\n### snapshot_map / sharded_map by write fraction\n\n"
      << "| cell | 0% | 0.1% | 1% | 10% | 50% | snapshot_map at least as "
         "fast up to |\n|---|---|---|---|---|---|---|\n";
  for (const auto &[cell, by_permille] : crossover) {
    out << "| " << cell << " |";
    unsigned up_to = 0;
    bool below = false, any_at_least = false;
    for (unsigned wp : {0u, 1u, 10u, 100u, 500u}) {
      auto it = by_permille.find(wp);
      out << " " << (it == by_permille.end() ? "—" : fmt(it->second)) << " |";
      if (it == by_permille.end())
        continue;
      if (it->second >= 1.0 && !below) {
        up_to = wp;
        any_at_least = true;
      } else {
        below = true;
      }
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", up_to / 10.0);
    out << " " << (any_at_least ? buf : "never") << " |\n";
  }
  out << "\nColumns: shd = sharded_map with the default " << default_shards
      << " shards; gsm/gm = one global std::shared_mutex/std::mutex around a "
         "std::unordered_map; floor = single-threaded std::unordered_map "
         "without a lock. Reads in mixed workloads are zero-copy visits; "
         "writes are insert_or_assign of an existing key.\n";
}

} // namespace

int main(int argc, char **argv) {
  std::string table_file;
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--table=", 8) == 0)
      table_file = argv[i] + 8;
    else if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strncmp(argv[i], "--cell_min_time=", 16) == 0)
      min_time = std::atof(argv[i] + 16);
    else
      args.push_back(argv[i]);
  }
  int n = int(args.size());
  benchmark::Initialize(&n, args.data());
  register_all<i64>("i64");
  register_all<vstr>("vstr");
  speedup_before = alu_parallel_speedup();
  collecting_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  speedup_after = alu_parallel_speedup();
  cache().maps.clear();
  std::ostringstream table;
  print_table(table);
  std::cout << "\n" << table.str();
  if (!table_file.empty())
    std::ofstream(table_file) << table.str();
  benchmark::Shutdown();
  return 0;
}
