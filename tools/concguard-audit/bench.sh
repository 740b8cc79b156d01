#!/usr/bin/env bash
# Measures concguard-audit for docs/audit.md: in process (the audit's
# thread pool) against one concguard-tidy process per translation unit
# (xargs -P, as run-clang-tidy does), and a cold against a warm --cache-dir,
# over the bundled example project (docs/examples/session-service).
#
#   tools/concguard-audit/bench.sh <concguard build dir> [repetitions] [jobs]
#
# Prints wall-clock and CPU (user+sys) seconds of each run; CPU time is the
# fairer number on a machine shared with other work.
set -euo pipefail
build=$(cd "${1:?usage: bench.sh <build dir> [repetitions] [jobs]}" && pwd)
reps=${2:-3}
jobs=${3:-2}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
project="$root/docs/examples/session-service"
work="$build/audit-bench"
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
mkdir -p "$work"
cmake -S "$project" -B "$work/project" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
audit="$build/bin/concguard-audit"
tidy="$build/bin/concguard-tidy"
measure() { # label command...
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %U+%S s CPU" "$@" >/dev/null 2>"$work/time.txt" || true
  tail -n1 "$work/time.txt"
}
cd "$project"
for _ in $(seq "$reps"); do
  measure "in-process        -j$jobs" "$audit" -p "$work/project" -j"$jobs" --progress=none
  measure "tidy subprocesses -P$jobs" sh -c "ls src/*.cpp | xargs -P$jobs -n1 '$tidy' -p '$work/project' \
    --checks='-*,concguard-*' --header-filter='.*' --quiet"
done
for _ in $(seq "$reps"); do
  rm -rf "$work/cache"
  measure "cold cache        -j$jobs" "$audit" -p "$work/project" -j"$jobs" --progress=none --cache-dir "$work/cache"
  measure "warm cache        -j$jobs" "$audit" -p "$work/project" -j"$jobs" --progress=none --cache-dir "$work/cache"
done
