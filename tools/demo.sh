#!/usr/bin/env bash
# Sets up concguard (packages + build) and runs its checks over the bundled
# example project, docs/examples/session-service, through the project's
# compile_commands.json, the way CI would run them on your code.
#
#   tools/demo.sh [--llvm N] [path/to/project]   (default: the bundled example)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llvm=22
project="$root/docs/examples/session-service"
while [ $# -gt 0 ]; do
  case "$1" in
    --llvm) llvm=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) project=$(cd "$1" && pwd); shift ;;
  esac
done
build="$root/build"
[ "$llvm" = 22 ] || build="$root/build-llvm$llvm"

# Only what the demo runs: concguard-tidy (tools/test.sh builds the rest).
"$root/tools/setup.sh" --llvm "$llvm" --build-dir "$build" --target concguard-tidy

db="$build/examples/$(basename "$project")"
echo "demo.sh: configuring $project for its compile_commands.json"
cmake -G Ninja -S "$project" -B "$db" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
mapfile -t sources < <(python3 -c '
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(entry["file"])' "$db/compile_commands.json" | sort -u)

echo "demo.sh: running the concguard checks over ${#sources[@]} translation units"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$build/bin/concguard-tidy" -p "$db" --checks='-*,concguard-*' --quiet \
  "${sources[@]}" >"$out" 2>&1 || status=$?
cat "$out"
warnings=$(grep -c ': warning: ' "$out" || true)
errors=$(grep -c ': error: ' "$out" || true)
echo
echo "demo.sh: $warnings finding(s), $errors error(s) in $(basename "$project")"
if [ "$errors" -gt 0 ] || { [ "$status" -ne 0 ] && [ "$warnings" -eq 0 ]; }; then
  exit 1
fi
