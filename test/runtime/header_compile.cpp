// Compile test: instantiates every member of both containers so that the
// headers are checked under -Wall -Wextra -Wpedantic -Werror with each
// compiler and language standard (see compile_check.cmake). Also linked and
// run as a smoke test of the optimized build.
#include "concguard/concguard.hpp"

#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Every non-template member.
template class concguard::detail::basic_sharded_map<
    int, std::string, std::hash<int>, std::equal_to<int>,
    concguard::detail::rw_spinlock>;
template class concguard::sharded_map<int, std::string>;
template class concguard::detail::optimistic_sharded_map<
    int, long, std::hash<int>, std::equal_to<int>>;
template class concguard::sharded_map<int, long>;
template class concguard::persistent_map<int, std::string>;
template class concguard::persistent_map<long, long>;
template class concguard::snapshot_map<int, std::string>;
template class concguard::snapshot_map<int, std::string,
                                       std::map<int, std::string>>;

namespace {

template <class M> int exercise_common(M &m) {
  int n = 0;
  m.insert(1, "a");
  m.emplace(2, 3u, 'b');
  m.try_emplace(3, "c");
  m.insert_or_assign(4, "d");
  m.upsert(5, [](std::string &v) { v += "e"; });
  m.update(5, [](std::string &v) { v += "f"; });
  n += static_cast<int>(m.get_or_insert_default(6).size());
  n += m.visit(1,
               [&](const std::string &v) { n += static_cast<int>(v.size()); });
  m.for_each([&](const int &k, const std::string &) { n += k; });
  m.for_each_mut([](const int &, std::string &v) { v += "!"; });
  n += static_cast<int>(
      m.erase_if([](const int &k, const std::string &) { return k == 6; }));
  n += static_cast<int>(m.erase(4));
  n += m.contains(1) + static_cast<int>(m.count(2) + m.size()) + m.empty();
  n += static_cast<int>(m.at(1).size() + m.get(2)->size());
  n += m.emplace_or_visit(7, 2u, 'g', [](std::string &v) { v += "h"; });
  n += m.emplace_or_cvisit(7, 2u, 'g', [](const std::string &) {});
  n += m.assign_if_equal(7, "gg", "i");
  M other;
  swap(m, other);
  m.swap(other);
  return n;
}

} // namespace

int main() {
  int n = 0;
  concguard::sharded_map<int, std::string> s(32);
  n += exercise_common(s);
  n += static_cast<int>(s.snapshot().size());
  s.reserve(100);
  s.clear();

  concguard::sharded_map<int, long> o8;
  o8.insert(1, 2);
  o8.upsert(1, [](long &v) { ++v; });
  n += static_cast<int>(o8.snapshot().size() + o8.at(1));
  o8.reserve(10);
  o8.erase_if([](const int &, const long &v) { return v == 3; });
  concguard::sharded_map<int, long> o8copy(o8);
  o8copy = o8;
  concguard::sharded_map<int, long> o8moved(std::move(o8copy));
  o8copy = std::move(o8moved);
  n += o8.emplace_or_visit(2, 5L, [](long &v) { ++v; });
  n += o8.assign_if_equal(2, 5, 6);
  o8.clear();

  concguard::snapshot_map<int, std::string> c;
  n += exercise_common(c);
  // (std::string(1, ...) rather than = "z": GCC 12 -Wrestrict false positive,
  // PR 105329, in libstdc++ string assignment from a literal at -O2 C++20.)
  c.update([](concguard::persistent_map<int, std::string> &m) {
    m[9].assign(1, 'z');
  });
  n += static_cast<int>(c.snapshot()->size());
  c.clear();
  concguard::snapshot_map<int, std::string>::release_thread_cache();

  concguard::snapshot_map<int, std::string, std::map<int, std::string>> o;
  n += exercise_common(o);

  std::printf("%d\n", n);
  return n > 0 ? 0 : 1;
}
