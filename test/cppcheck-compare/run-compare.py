#!/usr/bin/env python3
"""Compares concguard-dangling-container-view with cppcheck on a labelled corpus.

Every file in cases/ is one small C++ program whose first line labels it:

  // expect: bug   the program uses a view into a container after the
                   container may have invalidated it (exactly one such bug)
  // expect: ok    the program is correct: a report on it is a false positive

Both tools run over every case. A tool *finds* a bug case when it reports at
least one relevant diagnostic in that file, *misses* it otherwise, and
reports a *false* positive when it reports anything relevant on an ok case.
Relevant diagnostics are concguard-dangling-container-view warnings, and for
cppcheck the ids of its container/iterator invalidation and lifetime checks
(CPPCHECK_VIEW_IDS in test/cppcheck_views.py); style findings such as constVariable are ignored.

Usage:
  run-compare.py --tidy "clang-tidy --load=build/lib/libconcguard.so" \\
                 [--cppcheck cppcheck] [--cases DIR] [--std c++20]

Prints one row per case, a table of totals, and a machine-readable line

  SUMMARY bugs=N ok=M concguard-found=.. concguard-missed=.. \\
      concguard-false=.. cppcheck-found=.. cppcheck-missed=.. cppcheck-false=..
  VERDICT: concguard-better | VERDICT: concguard-not-better

("better": strictly more bugs found and no more false positives).
Exits 2 when a tool cannot be run.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from cppcheck_views import CPPCHECK_VIEW_IDS  # noqa: E402

CHECK = "concguard-dangling-container-view"
LABEL_RE = re.compile(r"^//\s*expect:\s*(bug|ok)\b", re.M)


def run(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300)
    except FileNotFoundError:
        sys.stderr.write("run-compare: cannot run %s\n" % cmd[0])
        sys.exit(2)


def concguard_reports(tidy, std, path):
    config = "{Checks: '-*,%s', WarningsAsErrors: '', HeaderFilterRegex: ''}" % CHECK
    result = run(tidy + ["--quiet", "--config=" + config, path, "--", "-std=" + std])
    if re.search(r"error: (?!.*\[%s)" % CHECK, result.stdout):
        sys.stderr.write(result.stdout)
        sys.stderr.write("run-compare: %s does not compile\n" % path)
        sys.exit(2)
    return [line for line in result.stdout.splitlines()
            if "warning:" in line and "[%s]" % CHECK in line]


def cppcheck_reports(cppcheck, std, path):
    result = run([cppcheck, "--enable=warning,style,performance,portability",
                  "--inconclusive", "--std=" + std, "--language=c++",
                  "--library=std", "--quiet", "--template={line}:{id}:{message}",
                  path])
    reports = []
    for line in result.stdout.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[1] in CPPCHECK_VIEW_IDS:
            reports.append(line)
    return reports


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tidy", required=True,
                        help="clang-tidy command that knows the concguard checks")
    parser.add_argument("--cppcheck", default="cppcheck")
    parser.add_argument("--cases", default=os.path.join(here, "cases"))
    parser.add_argument("--std", default="c++20")
    args = parser.parse_args()
    tidy = shlex.split(args.tidy)

    version = run([args.cppcheck, "--version"])
    if version.returncode != 0:
        sys.stderr.write("run-compare: %s --version failed\n" % args.cppcheck)
        sys.exit(2)

    cases = sorted(f for f in os.listdir(args.cases) if f.endswith(".cpp"))
    if not cases:
        sys.stderr.write("run-compare: no cases in %s\n" % args.cases)
        sys.exit(2)
    totals = {tool: {"found": 0, "missed": 0, "false": 0}
              for tool in ("concguard", "cppcheck")}
    labels = {"bug": 0, "ok": 0}
    print("%-42s %-6s %-10s %-10s" % ("case", "label", "concguard", "cppcheck"))
    for name in cases:
        path = os.path.join(args.cases, name)
        with open(path, encoding="utf-8") as f:
            match = LABEL_RE.search(f.read())
        if not match:
            sys.stderr.write("run-compare: %s has no '// expect:' label\n" % name)
            sys.exit(2)
        label = match.group(1)
        labels[label] += 1
        row = []
        for tool, reports in (
                ("concguard", concguard_reports(tidy, args.std, path)),
                ("cppcheck", cppcheck_reports(args.cppcheck, args.std, path))):
            if label == "bug":
                outcome = "found" if reports else "missed"
            else:
                outcome = "false" if reports else "-"
            if outcome != "-":
                totals[tool][outcome] += 1
            row.append(outcome)
        print("%-42s %-6s %-10s %-10s" % (name, label, row[0], row[1]))

    print()
    print("%-10s %6s %7s %6s" % ("tool", "found", "missed", "false"))
    for tool in ("concguard", "cppcheck"):
        t = totals[tool]
        print("%-10s %6d %7d %6d" % (tool, t["found"], t["missed"], t["false"]))
    print("(%s; %d bug cases, %d ok cases)" % (version.stdout.strip(),
                                               labels["bug"], labels["ok"]))
    cg, cc = totals["concguard"], totals["cppcheck"]
    print("SUMMARY bugs=%d ok=%d concguard-found=%d concguard-missed=%d "
          "concguard-false=%d cppcheck-found=%d cppcheck-missed=%d "
          "cppcheck-false=%d" % (labels["bug"], labels["ok"], cg["found"],
                                 cg["missed"], cg["false"], cc["found"],
                                 cc["missed"], cc["false"]))
    better = cg["found"] > cc["found"] and cg["false"] <= cc["false"]
    print("VERDICT: " + ("concguard-better" if better else "concguard-not-better"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
