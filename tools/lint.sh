#!/usr/bin/env bash
# Lints the project's own C++ sources: clang-format (the repository's
# .clang-format) and clang-tidy (the repository's .clang-tidy) over checks/
# and tools/, using the compile database of a configured build.
#
#   tools/lint.sh [--build-dir DIR] [--fix-format]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
fix=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --fix-format) fix=1; shift ;;
    *) echo "lint.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
llvm=$(sed -n 's/^CONCGUARD_LLVM_VERSION:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[ -n "$llvm" ] || { echo "lint.sh: no configured build in $build (run tools/setup.sh)" >&2; exit 1; }
bin=/usr/lib/llvm-$llvm/bin
cd "$root"
mapfile -t sources < <(git ls-files 'checks/*.cpp' 'checks/*.h' 'tools/*.cpp' 'test/unit/*.cpp')
status=0
if [ "$fix" = 1 ]; then
  "$bin/clang-format" -i "${sources[@]}"
else
  "$bin/clang-format" --dry-run --Werror "${sources[@]}" || status=1
fi
mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep '\.cpp$')
"$bin/clang-tidy" -p "$build" --quiet "${units[@]}" || status=1
exit $status
