#!/usr/bin/env bash
# Installs the Debian packages concguard needs (only those missing) and builds
# it with CMake and Ninja.
#
#   tools/setup.sh [--llvm N] [--build-dir DIR] [--no-build] [-DVAR=VALUE ...]
#
#   --llvm N         LLVM/Clang major version to build against (22 or 19; default 22)
#   --build-dir DIR  build directory (default: build for LLVM 22, build-llvm<N> otherwise)
#   --no-build       install the packages only
#   --target T       build only target T (and what it needs); repeatable
#   -DVAR=VALUE      passed to cmake
#
# Package lists live in tools/deps/*.txt (one package a line, %V = LLVM
# version, `package:command` = only when the command is missing);
# tools/deps/bench.txt is installed only by tools/bench-runtime.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llvm=22
build=""
do_build=1
cmake_args=()
targets=()

while [ $# -gt 0 ]; do
  case "$1" in
    --llvm) llvm=${2:?--llvm needs a version}; shift 2 ;;
    --llvm=*) llvm=${1#--llvm=}; shift ;;
    --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
    --build-dir=*) build=${1#--build-dir=}; shift ;;
    --no-build) do_build=0; shift ;;
    --target) targets+=(--target "${2:?--target needs a name}"); shift 2 ;;
    -D*) cmake_args+=("$1"); shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$llvm" in
  19|22) ;;
  *) echo "setup.sh: --llvm must be 19 or 22, not '$llvm'" >&2; exit 2 ;;
esac
if [ -z "$build" ]; then
  if [ "$llvm" = 22 ]; then build="$root/build"; else build="$root/build-llvm$llvm"; fi
fi

# --- packages -------------------------------------------------------------
packages=()
for list in "$root"/tools/deps/*.txt; do
  [ "$(basename "$list")" = bench.txt ] && continue
  while IFS= read -r line; do
    line=${line%%#*}
    line=$(echo "$line" | xargs)
    [ -n "$line" ] || continue
    line=${line//%V/$llvm}
    # `package:command` installs the package only when the command is
    # missing (npm ships inside some nodejs packages and conflicts there).
    if [[ "$line" == *:* ]]; then
      command -v "${line#*:}" >/dev/null 2>&1 && continue
      line=${line%%:*}
    fi
    packages+=("$line")
  done < "$list"
done

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${#missing[@]} Debian package(s): ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=sudo; else
      echo "setup.sh: run as root (or install sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "setup.sh: apt-get could not install: ${missing[*]}" >&2
    echo "setup.sh: concguard needs Debian 12 (bookworm) with its security and" \
         "updates suites, where LLVM $llvm is packaged." >&2
    exit 1
  fi
else
  echo "setup.sh: all ${#packages[@]} Debian packages already installed"
fi

[ "$do_build" = 1 ] || exit 0

# --- build ----------------------------------------------------------------
configure=(cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
           -DCONCGUARD_LLVM_VERSION="$llvm")
if [ ! -f "$build/CMakeCache.txt" ] && command -v "clang++-$llvm" >/dev/null; then
  # Clang of the same version builds the checks fastest and matches the
  # headers they include.
  configure+=(-DCMAKE_CXX_COMPILER="clang++-$llvm")
fi
"${configure[@]}" "${cmake_args[@]}"
cmake --build "$build" "${targets[@]}"
echo "setup.sh: built concguard against LLVM $llvm in $build"
