"""Runs a command and prints its exit code as 'exit=N' (lit's shell has no
$?), passing its output through.   exit_code.py <cmd> [args...]"""
import subprocess
import sys

rc = subprocess.run(sys.argv[1:]).returncode
sys.stdout.flush()
print("exit=%d" % rc)
