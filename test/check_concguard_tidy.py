#!/usr/bin/env python3
"""Runs one concguard check over a lit test source and verifies it.

Usage (from a lit RUN line, through the %check_concguard substitution):

  %check_concguard [-std=c++20] [-check-suffix=A,B] %s <check-name> %t \
      [-- <clang-tidy args>] [-- <compiler args>]

The test source carries its expectations:

  // CHECK-MESSAGES: :[[@LINE+1]]:3: warning: ... [concguard-...]
  // CHECK-NOTES:    :[[@LINE-2]]:5: note: ...
  // CHECK-FIXES:    std::jthread t(...)

The runner
  1. copies the source to <%t>.<ext> with every CHECK line blanked to '//'
     (so line numbers stay put and the expectations cannot match themselves),
  2. runs clang-tidy with only <check-name> enabled and --fix,
  3. FileChecks the warnings (CHECK-MESSAGES) and, if present, warnings plus
     notes (CHECK-NOTES); any warning, error or (with CHECK-NOTES) note that no
     CHECK line matches fails the test, and a source without CHECK-MESSAGES or
     CHECK-NOTES must produce no diagnostic at all,
  4. FileChecks the fixed file (CHECK-FIXES); without CHECK-FIXES the file
     must come out unchanged,
  5. compiles the fixed file with clang++ -fsyntax-only: a fix-it must leave
     valid code.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

DIAG_RE = re.compile(r"^.*:\d+:\d+: (warning|error|note): ")
CHECK_LINE_RE = re.compile(r"//\s*CHECK-(?:MESSAGES|NOTES|FIXES)[A-Za-z0-9-]*:[^\r\n]*")


def fail(message):
    sys.stderr.write("check_concguard_tidy: " + message + "\n")
    sys.exit(1)


def run(cmd, **kwargs):
    sys.stderr.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kwargs)


def filecheck(filecheck_bin, check_file, input_text, prefixes, implicit_not,
              extra=()):
    cmd = [filecheck_bin, check_file, "--check-prefixes=" + ",".join(prefixes),
           "--dump-input=fail"]
    for pattern in implicit_not:
        cmd.append("--implicit-check-not=" + pattern)
    cmd.extend(extra)
    result = run(cmd, input=input_text)
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        fail("FileCheck failed for prefixes " + ",".join(prefixes))


def split_args(rest):
    """Splits '[-- tidy args] [-- compiler args]'."""
    tidy_args, compiler_args = [], []
    if rest and rest[0] == "--":
        rest = rest[1:]
        if "--" in rest:
            cut = rest.index("--")
            tidy_args, compiler_args = rest[:cut], rest[cut + 1:]
        else:
            tidy_args = rest
    elif rest:
        fail("unexpected arguments: " + " ".join(rest))
    return tidy_args, compiler_args


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clang-tidy", required=True)
    parser.add_argument("--load", help="plugin to --load into --clang-tidy")
    parser.add_argument("--clangxx", required=True)
    parser.add_argument("--filecheck", required=True)
    parser.add_argument("-std", default="c++17", dest="std")
    parser.add_argument("-check-suffix", "-check-suffixes", default="",
                        dest="suffixes")
    parser.add_argument("source")
    parser.add_argument("check_name")
    parser.add_argument("temp_base")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    tidy_args, compiler_args = split_args(argv[cut:])

    # CONCGUARD_TIDY=<binary> runs the test with another clang-tidy (e.g.
    # concguard-tidy) instead of the stock one with the plugin.
    tidy = [args.clang_tidy] + (["--load=" + args.load] if args.load else [])
    if os.environ.get("CONCGUARD_TIDY"):
        tidy = [os.environ["CONCGUARD_TIDY"]]

    with open(args.source, encoding="utf-8") as f:
        original = f.read()
    suffixes = [s for s in args.suffixes.split(",") if s]

    def prefixes(base):
        return [base + "-" + s for s in suffixes] if suffixes else [base]

    def has(base):
        return any(re.search(r"\b" + re.escape(p) + r":", original)
                   for p in prefixes(base))

    has_messages, has_notes, has_fixes = (has("CHECK-MESSAGES"),
                                          has("CHECK-NOTES"), has("CHECK-FIXES"))

    cleaned = CHECK_LINE_RE.sub("//", original)
    extension = os.path.splitext(args.source)[1] or ".cpp"
    temp_file = args.temp_base + extension
    os.makedirs(os.path.dirname(os.path.abspath(temp_file)), exist_ok=True)
    with open(temp_file, "w", encoding="utf-8") as f:
        f.write(cleaned)

    # Without -config, clang-tidy would read the .clang-tidy files above the
    # temporary file (the project's own, when the build tree is inside it).
    if not any(a.startswith(("-config", "--config")) for a in tidy_args):
        tidy_args = ["--config={}"] + tidy_args
    std_args = ["-std=" + args.std]
    cmd = tidy + [temp_file, "--fix", "--quiet",
                  "--checks=-*," + args.check_name] + tidy_args + [
                      "--", *std_args, *compiler_args]
    result = run(cmd)
    output = result.stdout
    sys.stderr.write(output)
    if result.returncode != 0 and "error:" not in output:
        fail("clang-tidy exited with %d" % result.returncode)

    diag_lines = [l for l in output.splitlines() if DIAG_RE.match(l)]
    messages = "\n".join(l for l in diag_lines if " note: " not in l) + "\n"
    notes = "\n".join(diag_lines) + "\n"

    if has_messages:
        filecheck(args.filecheck, args.source, messages, prefixes("CHECK-MESSAGES"),
                  ["{{warning|error}}:"])
    if has_notes:
        filecheck(args.filecheck, args.source, notes, prefixes("CHECK-NOTES"),
                  ["{{warning|error|note}}:"])
    if not has_messages and not has_notes and messages.strip():
        fail("expected no diagnostics, got:\n" + messages)

    with open(temp_file, encoding="utf-8") as f:
        fixed = f.read()
    if has_fixes:
        filecheck(args.filecheck, args.source, fixed, prefixes("CHECK-FIXES"), [],
                  ["--strict-whitespace"])
    elif fixed != cleaned:
        fail("the check changed the file but the test has no CHECK-FIXES")

    compiled = run([args.clangxx, "-fsyntax-only", *std_args, *compiler_args,
                    temp_file])
    if compiled.returncode != 0:
        sys.stderr.write(compiled.stdout)
        fail("the fixed file does not compile")


if __name__ == "__main__":
    main()
