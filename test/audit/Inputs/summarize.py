"""Prints a concguard-audit JSON report as stable text for golden tests:
units, findings (location, severity, check, message, baseline state),
their notes and fix-its, fixed findings and tool errors.

    summarize.py <report.json>
"""
import json
import sys

r = json.load(open(sys.argv[1]))


def loc(l):
    return "%s:%d:%d" % (l["path"], l["line"], l["column"])


print("complete: %s" % str(r["complete"]).lower())
for u in r["translationUnits"]:
    print("unit %s %s" % (u["path"], u["status"]))
for f in r["findings"]:
    state = " [%s]" % f["baselineState"] if "baselineState" in f else ""
    print("%s %s %s: %s%s" % (loc(f["location"]), f["severity"], f["check"], f["message"], state))
    for n in f["notes"]:
        print("  note %s: %s" % (loc(n["location"]), n["message"]))
    for e in f["fixes"]:
        print("  fix %s:%d:%d-%d:%d %s" % (e["path"], e["startLine"], e["startColumn"],
                                           e["endLine"], e["endColumn"], json.dumps(e["text"])))
for f in r.get("fixed", []):
    print("fixed %s %s: %s" % (loc(f["location"]), f["check"], f["message"]))
for e in r["toolErrors"]:
    print("tool error %s: %s" % (e["path"], e["message"]))
print("summary %s" % json.dumps(r["summary"], sort_keys=True))
