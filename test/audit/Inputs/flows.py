"""Prints the code flows of a SARIF log's results as stable text: per result
its location and rule, and per thread flow its message and steps (location,
nesting level, kinds, importance and message).

    flows.py <log.sarif>
"""
import json
import sys


def where(location):
    pl = location["physicalLocation"]
    region = pl.get("region", {})
    return "%s:%d:%d" % (pl["artifactLocation"]["uri"], region.get("startLine", 0),
                         region.get("startColumn", 0))


log = json.load(open(sys.argv[1]))
for result in log["runs"][0]["results"]:
    flows = result.get("codeFlows")
    print("%s %s: %s" % (where(result["locations"][0]), result["ruleId"],
                         "%d code flow(s)" % len(flows) if flows else "no code flow"))
    for flow in flows or []:
        print("  flow: %s" % flow["message"]["text"])
        for thread in flow["threadFlows"]:
            print("    thread: %s" % thread["message"]["text"])
            for step in thread["locations"]:
                print("      %s%s %s%s: %s" % (
                    "  " * step.get("nestingLevel", 0), where(step["location"]),
                    ",".join(step.get("kinds", [])),
                    " (%s)" % step["importance"] if "importance" in step else "",
                    step["location"]["message"]["text"]))
