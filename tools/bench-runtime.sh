#!/usr/bin/env bash
# Builds and runs the runtime benchmark (test/bench/runtime) and prints the
# table of throughputs and ratios against every anchor, all from one run.
#
#   tools/bench-runtime.sh [--build-dir DIR] [--out DIR] [--no-install]
#                          [--quick] [-- extra benchmark arguments]
#
#   --build-dir DIR  build directory (default: $TMPDIR/concguard-bench-runtime)
#   --out DIR        where bench.log and table.md go (default: the build dir)
#   --no-install     do not install tools/deps/bench.txt
#   --quick          10k keys only (a few minutes less)
# Extra arguments go to the benchmark, e.g. --cell_min_time=0.2 or
# --benchmark_filter='^sharded64/i64/'.
#
# The full matrix takes about 6-10 minutes on 2 cores. Benchmarks are not run
# in CI. The machine should be otherwise idle: the 2-thread cells need two
# free cores, and the table's header reports how many the run really had.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${TMPDIR:-/tmp}/concguard-bench-runtime"
out=""
install=1
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=${2:?}; shift 2 ;;
    --build-dir=*) build=${1#*=}; shift ;;
    --out) out=${2:?}; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --no-install) install=0; shift ;;
    --quick) bench_args+=(--quick); shift ;;
    --) shift; bench_args+=("$@"); break ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-runtime.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$build}

# --- packages ---------------------------------------------------------------
if [ "$install" = 1 ]; then
  packages=()
  while IFS= read -r line; do
    line=${line%%#*}
    line=$(echo "$line" | xargs)
    [ -n "$line" ] && packages+=("$line")
  done < "$root/tools/deps/bench.txt"
  missing=()
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench-runtime.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# --- build ------------------------------------------------------------------
cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCONCGUARD_WITH_CLANG=OFF -DCONCGUARD_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target concguard_runtime_bench

# --- run --------------------------------------------------------------------
mkdir -p "$out"
bench=$(find "$build" -name concguard_runtime_bench -type f -perm -u+x | head -n1)
echo "bench-runtime.sh: running $bench (log: $out/bench.log)"
{
  echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)," \
       "$(free -g | awk '/^Mem:/ {print $2}') GiB; $(uname -sr)"
  echo "compiler: $(grep -m1 CMAKE_CXX_COMPILER: "$build/CMakeCache.txt" | cut -d= -f2)" \
       "($(grep -m1 CMAKE_CXX_COMPILER_VERSION "$build/CMakeFiles"/*/CMakeCXXCompiler.cmake 2>/dev/null | sed 's/.*"\(.*\)".*/\1/'))"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: tools/bench-runtime.sh ${bench_args[*]:-}"
} > "$out/machine.txt"
"$bench" --benchmark_color=false --table="$out/table.md" "${bench_args[@]}" > "$out/bench.log" 2>&1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
cat "$out/machine.txt"
echo
cat "$out/table.md"
