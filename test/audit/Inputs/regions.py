"""Prints the highlighted regions of a concguard-audit report's findings and
notes, the source text they cover and the notes' messages, reported findings first, then the ones suppressed
by NOLINT comments, as stable text for a golden test. Fails when the SARIF
log disagrees with the JSON report: a different region, a suppressed finding
without `suppressions: [{kind: inSource}]`, or a reported one with it.

    regions.py <report.json> <report.sarif> <project root>
"""
import json
import os
import sys

report = json.load(open(sys.argv[1]))
sarif = json.load(open(sys.argv[2]))
root = sys.argv[3]


def region(loc):
    return (loc["line"], loc["column"], loc.get("endLine", 0), loc.get("endColumn", 0))


def text(path, r):
    lines = open(os.path.join(root, path)).read().split("\n")
    line, col, end_line, end_col = r
    if not end_line:
        return "(no end)"
    if line == end_line:
        return json.dumps(lines[line - 1][col - 1:end_col - 1])
    parts = [lines[line - 1][col - 1:]] + lines[line:end_line - 1] + [lines[end_line - 1][:end_col - 1]]
    return json.dumps("\n".join(parts))


def show(kind, f):
    r = region(f["location"])
    print("%s %s:%d:%d-%d:%d %s %s" % ((kind, f["location"]["path"]) + r + (f["check"], text(f["location"]["path"], r))))
    for n in f["notes"]:
        nr = region(n["location"])
        print("  note %s:%d:%d-%d:%d %s: %s" % ((n["location"]["path"],) + nr +
                                               (text(n["location"]["path"], nr), n["message"])))


expected = []
for kind, key in (("finding", "findings"), ("suppressed", "suppressed")):
    for f in report[key]:
        show(kind, f)
        expected.append((f["location"]["path"], region(f["location"]), f["check"], kind == "suppressed"))

got = []
for res in sarif["runs"][0]["results"]:
    phys = res["locations"][0]["physicalLocation"]
    reg = phys["region"]
    kinds = [s["kind"] for s in res.get("suppressions", [])]
    if kinds not in ([], ["inSource"]):
        sys.exit("unexpected suppressions %s" % kinds)
    got.append((phys["artifactLocation"]["uri"],
                (reg["startLine"], reg["startColumn"], reg.get("endLine", 0), reg.get("endColumn", 0)),
                res["ruleId"], kinds == ["inSource"]))
if got != expected:
    sys.exit("SARIF results differ from the JSON report:\n  %s\n  %s" % (got, expected))
print("sarif: %d results agree, %d suppressed" % (len(got), sum(1 for g in got if g[3])))
