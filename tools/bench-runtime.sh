#!/usr/bin/env bash
# Builds and runs the runtime benchmark (test/bench/runtime) and prints the
# table of throughputs and ratios against every anchor, all from one run.
#
#   tools/bench-runtime.sh [--build-dir DIR] [--out DIR] [--no-install]
#                          [--quick] [--callgrind[=REV]] [--ab[=REV]]
#                          [-- extra benchmark arguments]
#
#   --build-dir DIR  build directory (default: $TMPDIR/concguard-bench-runtime)
#   --out DIR        where bench.log and table.md go (default: the build dir)
#   --no-install     do not install tools/deps/bench.txt
#   --quick          10k keys only (a few minutes less)
#   --callgrind[=REV] instead of the benchmark: instructions and atomic
#                    read-modify-writes (the loop binary's lock-prefixed
#                    instructions; libc's mutexes not included) of one
#                    snapshot_map write and of one read (visit), counted by
#                    callgrind in a fixed loop
#                    (test/bench/runtime/write_loop.cpp), for the headers
#                    of this tree and of git revision REV (default HEAD), side
#                    by side; deterministic, so usable on a busy machine
#   --ab[=REV]       instead of the benchmark: wall-clock time of snapshot_map
#                    visits and writes with the headers of this tree and of
#                    REV (default HEAD) in one process, alternating rounds
#                    (test/bench/runtime/trie_ab.cpp), 10k and 1M int64
#                    keys, with a sharded_map of this tree as the reference
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
callgrind=""
ab=""
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=${2:?}; shift 2 ;;
    --build-dir=*) build=${1#*=}; shift ;;
    --out) out=${2:?}; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --no-install) install=0; shift ;;
    --quick) bench_args+=(--quick); shift ;;
    --callgrind) callgrind=HEAD; shift ;;
    --callgrind=*) callgrind=${1#*=}; shift ;;
    --ab) ab=HEAD; shift ;;
    --ab=*) ab=${1#*=}; shift ;;
    --) shift; bench_args+=("$@"); break ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# --- callgrind: one write's instructions and atomic RMWs, two header trees ---
if [ -n "$callgrind" ]; then
  command -v valgrind >/dev/null || { echo "bench-runtime.sh: valgrind not found" >&2; exit 1; }
  work=$(realpath -m "$build/callgrind")
  rm -rf "$work" && mkdir -p "$work/base"
  git -C "$root" rev-parse --verify -q "$callgrind^{commit}" >/dev/null ||
    { echo "bench-runtime.sh: '$callgrind' is not a git revision" >&2; exit 2; }
  git -C "$root" archive "$callgrind" rewriter/runtime/include | tar -x -C "$work/base"
  cxx=${CXX:-c++}
  for tree in base current; do
    inc="$root/rewriter/runtime/include"
    [ "$tree" = base ] && inc="$work/base/rewriter/runtime/include"
    "$cxx" -O2 -DNDEBUG -std=c++17 -I "$inc" "$root/test/bench/runtime/write_loop.cpp" \
      -o "$work/loop-$tree" -pthread
  done
  # Executions of the loop binary's lock-prefixed instructions (and xchg with
  # memory, implicitly locked), from a callgrind profile with --dump-instr.
  count_locked() {
    python3 - "$1" "$2" <<'PY'
import re, subprocess, sys
profile, exe = sys.argv[1], sys.argv[2]
locked = set()
dis = subprocess.run(['objdump', '-d', '--no-show-raw-insn', exe],
                     capture_output=True, text=True, check=True).stdout
for line in dis.splitlines():
    m = re.match(r'\s*([0-9a-f]+):\s+(lock\b|xchg\b.*\()', line)
    if m:
        locked.add(int(m.group(1), 16))
total, ob, after_call = 0, '', False
for line in open(profile):
    if line.startswith('ob='):
        ob = line[3:].strip()
    elif line.startswith('calls='):
        after_call = True  # the next cost line is the call's inclusive cost
    elif line.startswith('0x'):
        if after_call:
            after_call = False
            continue
        addr, _, cost = line.split()[:3]
        if ob == exe and int(addr, 16) in locked:
            total += int(cost)
print(total)
PY
  }
  measure() { # tree value keys count [read] -> "instructions locked"
    local out="$work/cg.$1.$2.$3.$4${5:+.$5}"
    valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no \
      --callgrind-out-file="$out" "$work/loop-$1" "$2" "$3" "$4" ${5:+"$5"} >/dev/null 2>&1
    echo "$(sed -n 's/^summary: //p' "$out") $(count_locked "$out" "$work/loop-$1")"
  }
  for op in write read; do
    mode=""
    [ "$op" = read ] && mode=read
    echo
    echo "| cell | instructions per $op, $callgrind | this tree | ratio | atomic RMWs per $op, $callgrind | this tree | ratio |"
    echo "|---|---|---|---|---|---|---|"
    for cell in "i64 10000 4000" "str 10000 4000" "i64 1000000 4000"; do
      set -- $cell
      row=()
      for tree in base current; do
        read -r i0 l0 < <(measure "$tree" "$1" "$2" 0 $mode)
        read -r i1 l1 < <(measure "$tree" "$1" "$2" "$3" $mode)
        row+=("$(( (i1 - i0) / $3 ))" "$(( (l1 - l0) / $3 ))")
      done
      awk -v c="$1/$2 keys" -v ib="${row[0]}" -v lb="${row[1]}" -v ic="${row[2]}" -v lc="${row[3]}" \
        'BEGIN { printf "| %s | %d | %d | %.2f | %d | %d | %s |\n", c, ib, ic, ic / ib, lb, lc, lb ? sprintf("%.2f", lc / lb) : "-" }'
    done
  done
  exit 0
fi

# --- A/B: two header trees in one process, alternating -----------------------
if [ -n "$ab" ]; then
  work=$(realpath -m "$build/ab")
  rm -rf "$work" && mkdir -p "$work/base"
  git -C "$root" rev-parse --verify -q "$ab^{commit}" >/dev/null ||
    { echo "bench-runtime.sh: '$ab' is not a git revision" >&2; exit 2; }
  git -C "$root" archive "$ab" rewriter/runtime/include | tar -x -C "$work/base"
  cxx=${CXX:-c++}
  src="$root/test/bench/runtime/trie_ab.cpp"
  for side in base current; do
    inc="$root/rewriter/runtime/include"
    [ "$side" = base ] && inc="$work/base/rewriter/runtime/include"
    "$cxx" -O2 -DNDEBUG -std=c++17 -I "$inc" -Dconcguard=concguard_ab_$side \
      -DCONCGUARD_AB_SIDE=$side -c "$src" -o "$work/$side.o"
  done
  "$cxx" -O2 -DNDEBUG -std=c++17 -c "$src" -o "$work/main.o"
  "$cxx" "$work/main.o" "$work/base.o" "$work/current.o" -o "$work/trie_ab" -pthread
  echo "A/B of snapshot_map: base = $ab, current = this tree; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$work/trie_ab" 10000 2000000 20000 7 | tail -n 2
  "$work/trie_ab" 1000000 300000 5000 7 | tail -n 2
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
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
