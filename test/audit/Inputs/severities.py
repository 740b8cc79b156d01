"""Prints the severity of every check and finding as each format of one
audit run shows it, and every disagreement: between the formats, and with
the table in docs/audit.md ("## Severity").

    severities.py <docs/audit.md> <report.sarif> <report.json> <summary.md>

Lines: "doc CHECK SEVERITY SCORE CWE" per row of the documented table,
"rule CHECK ..." per SARIF rule, "finding PATH:LINE CHECK SEVERITY" per
finding once all formats agree on it, "markdown-check CHECK SEVERITY N",
"markdown-total ...", then "disagreements N" and each one.
"""
import json
import re
import sys

docs_path, sarif_path, json_path, md_path = sys.argv[1:5]
problems = []

# The documented decision.
docs = {}
section = open(docs_path).read().split("\n## Severity\n", 1)[1].split("\n## ", 1)[0]
for line in section.splitlines():
    m = re.match(r"\| `(concguard-[a-z-]+)` \| (\w+) \|\s*([\d.]*)\s*\|\s*(\d*)\s*\|", line)
    if m:
        docs[m.group(1)] = (m.group(2), m.group(3), m.group(4))
        print("doc %s %s %s %s" % (m.group(1), m.group(2), m.group(3) or "-", m.group(4) or "-"))

run = json.load(open(sarif_path))["runs"][0]
rules = run["tool"]["driver"]["rules"]
for rule in rules:
    props = rule["properties"]
    level = rule["defaultConfiguration"]["level"]
    cwe = [t[len("external/cwe/cwe-"):] for t in props["tags"] if t.startswith("external/cwe/cwe-")]
    score = props.get("security-severity", "")
    print("rule %s level=%s problem.severity=%s security-severity=%s security-tag=%s cwe=%s" % (
        rule["id"], level, props["problem.severity"], score or "-",
        "security" in props["tags"], ",".join(cwe) or "-"))
    if level != props["problem.severity"]:
        problems.append("rule %s: level %s, problem.severity %s" % (rule["id"], level, props["problem.severity"]))
    if bool(score) != ("security" in props["tags"]):
        problems.append("rule %s: security-severity without the security tag or back" % rule["id"])
    if rule["id"].startswith("concguard-"):
        want = docs.get(rule["id"])
        if want != (level, score, ",".join(cwe)):
            problems.append("rule %s: %s, documented %s" % (rule["id"], (level, score, cwe), want))
for check in docs:
    if check not in [r["id"] for r in rules]:
        problems.append("documented check %s has no rule" % check)

rule_level = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
report = json.load(open(json_path))
md = open(md_path).read()
md_items = re.findall(r"^- (\w+) `([^`]+)` .* \[`([^`]+)`\]$", md, re.M)
sarif_results = run["results"]
if len(sarif_results) != len(report["findings"]) or len(md_items) != len(report["findings"]):
    problems.append("finding counts: sarif %d, json %d, markdown %d" % (
        len(sarif_results), len(report["findings"]), len(md_items)))
for res, f, item in zip(sarif_results, report["findings"], md_items):
    where = "%s:%d" % (f["location"]["path"], f["location"]["line"])
    seen = {"sarif": res["level"], "json": f["severity"], "markdown": item[0],
            "rule": rule_level[f["check"]]}
    if len(set(seen.values())) != 1 or res["ruleId"] != f["check"] or item[1] != where:
        problems.append("finding %s %s: %s" % (where, f["check"], seen))
    else:
        print("finding %s %s %s" % (where, f["check"], f["severity"]))

for check, severity, count in re.findall(r"^\| `([^`]+)` \| (\w+) \| (\d+) \|", md, re.M):
    print("markdown-check %s %s %s" % (check, severity, count))
    want = {f["severity"] for f in report["findings"] if f["check"] == check}
    if want != {severity}:
        problems.append("markdown: %s is %s, the findings %s" % (check, severity, sorted(want)))
m = re.search(r"^By severity: (.*)\.$", md, re.M)
print("markdown-total %s" % (m.group(1) if m else "missing"))
counts = {}
for f in report["findings"]:
    counts[f["severity"]] = counts.get(f["severity"], 0) + 1
expected = ", ".join("%s %d" % (s, counts[s]) for s in ("error", "warning", "note") if s in counts)
if not m or m.group(1) != expected:
    problems.append("markdown total '%s', the findings '%s'" % (m.group(1) if m else "", expected))

print("disagreements %d" % len(problems))
for p in problems:
    print("  " + p)
