"""Checks that concguard-audit (in process) finds exactly what concguard-tidy
finds when run on each translation unit by itself: same file, line, column,
check and message for every diagnostic, with every check enabled.

    compare_tidy.py <concguard-tidy> <build dir> <source root> <report.json>
"""
import json
import os
import re
import subprocess
import sys

tidy, build, root, report = sys.argv[1:5]
root = os.path.realpath(root)
with open(os.path.join(build, "compile_commands.json")) as f:
    units = sorted({(e["directory"], os.path.join(e["directory"], e["file"])) for e in json.load(f)})
diag = re.compile(r"^([^:]+):(\d+):(\d+): (?:warning|error): (.*) \[([a-z0-9-]+)[,\]]")
expected = set()
for directory, unit in units:
    out = subprocess.run([tidy, "-p", build, "--config={}", "--checks=-*,concguard-*",
                          "--header-filter=.*", "--quiet", unit],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = diag.match(line)
        if m:
            # clang-tidy prints paths as the command names them: relative
            # ones are relative to the command's directory.
            path = os.path.relpath(os.path.realpath(os.path.join(directory, m.group(1))), root)
            expected.add("%s:%s:%s %s: %s" % (path, m.group(2), m.group(3), m.group(5), m.group(4)))
with open(report) as f:
    found = {"%s:%d:%d %s: %s" % (x["location"]["path"], x["location"]["line"], x["location"]["column"],
                                  x["check"], x["message"])
             for x in json.load(f)["findings"]}
for d in sorted(expected - found):
    print("only concguard-tidy: " + d)
for d in sorted(found - expected):
    print("only concguard-audit: " + d)
print("%d units, %d findings, %d differences" % (len(units), len(found), len(expected ^ found)))
