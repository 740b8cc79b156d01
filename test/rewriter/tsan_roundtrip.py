#!/usr/bin/env python3
"""Round trip of one racy program through concguard-rewrite, under
ThreadSanitizer (-O0 -g, as races hide at higher levels):

  1. the original, built with -fsanitize=thread, must show a race in at most
     --tries runs (the program is racy, or the test proves nothing);
  2. the serial reference: the original built with -DCONCGUARD_SERIAL (each
     thread joined right after it starts) prints the expected output;
  3. concguard-rewrite --in-place must rewrite every flagged map;
  4. the rewritten program, built with -fsanitize=thread against the runtime,
     must run --runs times with no report and print the serial output;
  5. a second concguard-rewrite must change nothing.
Prints one line per step; exits non-zero on the first failure.
"""
import argparse
import os
import shutil
import subprocess
import sys


def run(cmd, env=None, timeout=120):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=timeout)


def fail(message, result=None):
    print("FAILED: " + message)
    if result is not None:
        sys.stdout.write(result.stdout[-4000:])
        sys.stdout.write(result.stderr[-4000:])
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rewrite", required=True)
    p.add_argument("--clangxx", required=True)
    p.add_argument("--runtime", required=True)
    p.add_argument("--tries", type=int, default=40)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("source")
    p.add_argument("work")
    a = p.parse_args()

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    src = os.path.join(a.work, "program.cpp")
    shutil.copy(a.source, src)
    # Headers beside the program (serial.h) stay where they are.
    include = "-I" + os.path.dirname(os.path.abspath(a.source))
    flags = ["-std=c++20", "-O0", "-g", "-pthread", include]
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 exitcode=66")

    racy_bin = os.path.join(a.work, "racy")
    r = run([a.clangxx, *flags, "-fsanitize=thread", src, "-o", racy_bin])
    if r.returncode:
        fail("the original does not compile", r)
    for attempt in range(1, a.tries + 1):
        r = run([racy_bin], env=env)
        if "WARNING: ThreadSanitizer" in r.stderr:
            print("original: ThreadSanitizer reports a race (run %d)" % attempt)
            break
    else:
        fail("ThreadSanitizer saw no race in the original in %d runs" % a.tries)

    serial_bin = os.path.join(a.work, "serial")
    r = run([a.clangxx, *flags, "-DCONCGUARD_SERIAL", src, "-o", serial_bin])
    if r.returncode:
        fail("the serial reference does not compile", r)
    r = run([serial_bin])
    if r.returncode:
        fail("the serial reference failed", r)
    reference = r.stdout
    print("serial reference: " + reference.strip())

    r = run([a.rewrite, src, "--in-place", "--", "-std=c++20", include])
    summary = [l for l in r.stderr.splitlines() if "concguard-rewrite:" in l]
    if r.returncode or not summary:
        fail("concguard-rewrite failed", r)
    print("rewrite: " + summary[-1].split("concguard-rewrite: ", 1)[1])
    if "skipped" in summary[-1] or "rewrote 0 of" in summary[-1]:
        fail("not every flagged map was rewritten", r)

    safe_bin = os.path.join(a.work, "safe")
    r = run([a.clangxx, *flags, "-fsanitize=thread", "-I" + a.runtime, src,
             "-o", safe_bin])
    if r.returncode:
        fail("the rewritten program does not compile", r)
    for attempt in range(1, a.runs + 1):
        r = run([safe_bin], env=env)
        if r.returncode or "ThreadSanitizer" in r.stderr:
            fail("the rewritten program failed or raced (run %d)" % attempt, r)
        if r.stdout != reference:
            fail("run %d printed %r, the serial reference %r" %
                 (attempt, r.stdout, reference))
    print("rewritten: %d runs, no race, same output as the serial reference"
          % a.runs)

    before = open(src).read()
    r = run([a.rewrite, src, "--in-place", "--", "-std=c++20", include,
             "-I" + a.runtime])
    if r.returncode or open(src).read() != before:
        fail("a second rewrite changed the program", r)
    print("second rewrite: no change")


if __name__ == "__main__":
    main()
