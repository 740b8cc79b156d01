"""Checks that a concguard-audit SARIF log has one rule per concguard check
that concguard-tidy registers (the audit covers every check, including
ones added later), each with help text and a documentation link.

    compare_rules.py <log.sarif> <concguard-tidy>
"""
import json
import subprocess
import sys

log = json.load(open(sys.argv[1]))
listed = subprocess.run([sys.argv[2], "--list-checks", "--checks=-*,concguard-*"],
                        capture_output=True, text=True, check=True).stdout.split()
registered = sorted(c for c in listed if c.startswith("concguard-"))
rules = log["runs"][0]["tool"]["driver"]["rules"]
ids = sorted(r["id"] for r in rules)
if ids != registered:
    sys.exit("rules %s != registered checks %s" % (ids, registered))
for r in rules:
    if not r["help"]["text"] or not r["helpUri"].endswith("/" + r["id"] + ".md"):
        sys.exit("rule %s lacks help text or its documentation link" % r["id"])
print("%d rules, one per registered concguard check" % len(ids))
