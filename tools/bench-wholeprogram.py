#!/usr/bin/env python3
"""What the whole-program view costs, measured side by side in one run.

For one compilation database, runs in alternation (so that the machine's
load falls on both alike):
  per-unit   concguard-audit --whole-program=false       (today's audit)
  + facts    concguard-audit --shard 1/1 --json s.json   (the same audit,
             extracting every unit's facts; the whole-program phase is
             left to merge)
  global     concguard-audit merge s.json                (the whole-program
             phase alone, plus reading the facts and writing the report)
and prints the CPU time of each (user + system, from wait4, so only that
process counts), the ratios, and the peak memory of the global phase.

    bench-wholeprogram.py --bin-dir build/bin -p DB_DIR --root SRC \
        [--config YAML] [--repeat 2] [-j 2] [--include GLOBS]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Runs cmd; returns (cpu seconds, peak RSS in MiB, wall seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1, 3):
        sys.exit("bench-wholeprogram: %s failed (exit %d):\n%s" %
                 (" ".join(cmd), proc.returncode, stderr[-2000:]))
    return (usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0,
            time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("-p", dest="db", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--config", default="")
    parser.add_argument("--include", default="")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("-j", dest="jobs", default="2")
    args = parser.parse_args()
    audit = os.path.join(args.bin_dir, "concguard-audit")
    common = [audit, "-p", args.db, "--root", args.root, "-j", args.jobs,
              "--progress", "none"]
    if args.config:
        common += ["--config", args.config]
    if args.include:
        common += ["--include", args.include]
    with open(os.path.join(args.db, "compile_commands.json")) as f:
        units = len({e["file"] for e in json.load(f)})
    totals = {"per-unit": 0.0, "facts": 0.0, "global": 0.0}
    peak = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        shard = os.path.join(tmp, "shard.json")
        for rep in range(args.repeat):
            order = ["per-unit", "facts"] if rep % 2 == 0 else ["facts", "per-unit"]
            for what in order:
                if what == "per-unit":
                    cpu, _, _ = run(common + ["--whole-program=false",
                                              "--json", os.path.join(tmp, "a.json")])
                else:
                    cpu, _, _ = run(common + ["--shard", "1/1", "--json", shard])
                totals[what] += cpu
            cpu, rss, _ = run([audit, "merge", shard, "--json",
                               os.path.join(tmp, "m.json")])
            totals["global"] += cpu
            peak = max(peak, rss)
    n = args.repeat
    per_unit, facts, whole = (totals[k] / n for k in ("per-unit", "facts", "global"))
    print("units in the database: %d (--include %r)" % (units, args.include))
    print("CPU seconds per run (mean of %d): per-unit %.1f, with facts %.1f, "
          "global phase %.2f" % (n, per_unit, facts, whole))
    print("facts extraction: %.3fx the per-unit audit" % (facts / per_unit))
    print("global phase: %.1f%% of the whole-program audit's total; peak "
          "memory %.0f MiB" % (100.0 * whole / (facts + whole), peak))
    load = os.getloadavg()
    print("load average during the run: %.1f %.1f %.1f" % load)


if __name__ == "__main__":
    main()
