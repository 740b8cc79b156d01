#!/usr/bin/env python3
"""Runs concguard-tidy and clang-tidy --load over each check test input with
the same arguments (taken from the input's first RUN line) and reports any
difference in the diagnostics they print."""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys


def run_args(source):
    """The -std, check, tidy and compiler arguments of the first RUN line."""
    text = open(source, encoding="utf-8").read()
    lines = []
    for line in text.splitlines():
        m = re.match(r"//\s*RUN:(.*)", line)
        if m:
            lines.append(m.group(1).rstrip())
            if not lines[-1].endswith("\\"):
                break
            lines[-1] = lines[-1][:-1]
        elif lines:
            break
    words = shlex.split(" ".join(lines))
    std = next((w for w in words if w.startswith("-std=")), "-std=c++17")
    check = next(w for w in words if w.startswith("concguard-"))
    rest = words[words.index("%t") + 1:] if "%t" in words else []
    tidy, compiler = [], []
    if rest and rest[0] == "--":
        rest = rest[1:]
        if "--" in rest:
            cut = rest.index("--")
            tidy, compiler = rest[:cut], rest[cut + 1:]
        else:
            tidy = rest
    if not any(a.startswith(("-config", "--config")) for a in tidy):
        tidy = ["--config={}"] + tidy
    return check, tidy, [std] + compiler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--concguard-tidy", required=True)
    parser.add_argument("--clang-tidy-load", required=True)
    parser.add_argument("--tests", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    differences = 0
    sources = sorted(glob.glob(os.path.join(args.tests, "*.cpp")))
    for source in sources:
        check, tidy, compiler = run_args(source)
        outputs = []
        for front_end in ([args.concguard_tidy], shlex.split(args.clang_tidy_load)):
            cmd = front_end + [source, "--quiet", "--checks=-*," + check,
                               "--export-fixes=" + os.path.join(args.work, "fixes.yaml")] + tidy + ["--"] + compiler
            result = subprocess.run(cmd, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            diags = [l for l in result.stdout.splitlines()
                     if re.search(r": (warning|error|note): ", l)]
            fixes = open(os.path.join(args.work, "fixes.yaml"), encoding="utf-8").read() \
                if os.path.exists(os.path.join(args.work, "fixes.yaml")) else ""
            outputs.append((result.returncode, diags, fixes))
        if outputs[0] != outputs[1]:
            differences += 1
            print("DIFFERENT: " + source)
            for name, out in zip(("concguard-tidy", "clang-tidy --load"), outputs):
                print("  %s (exit %d):" % (name, out[0]))
                for line in out[1]:
                    print("    " + line)
        elif not outputs[0][1]:
            print("NO DIAGNOSTICS (suspicious for a check test): " + source)
            differences += 1
    print("compared %d inputs, %d differences" % (len(sources), differences))
    return 0


if __name__ == "__main__":
    sys.exit(main())
