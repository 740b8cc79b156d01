#!/usr/bin/env bash
# Sets up (packages + build, see tools/setup.sh) and runs the test suite with
# ctest. Arguments after `--` go to ctest.
#
#   tools/test.sh [--llvm N] [--build-dir DIR] [-DVAR=VALUE ...] [-- ctest args]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

setup_args=()
ctest_args=()
llvm=22
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; ctest_args=("$@"); break ;;
    --llvm) llvm=$2; setup_args+=("$1" "$2"); shift 2 ;;
    --build-dir) build=$2; setup_args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) setup_args+=("$1"); shift ;;
  esac
done
if [ -z "$build" ]; then
  if [ "$llvm" = 22 ]; then build="$root/build"; else build="$root/build-llvm$llvm"; fi
fi

"$root/tools/setup.sh" "${setup_args[@]}"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "${ctest_args[@]}"
