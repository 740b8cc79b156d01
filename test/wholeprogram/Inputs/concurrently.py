"""Runs the given shell commands at the same time and fails unless every
one of them exits 0.

    concurrently.py "cmd 1" "cmd 2" ...
"""
import subprocess
import sys

procs = [subprocess.Popen(cmd, shell=True) for cmd in sys.argv[1:]]
codes = [p.wait() for p in procs]
if any(codes):
    sys.exit("exit codes: %s" % codes)
