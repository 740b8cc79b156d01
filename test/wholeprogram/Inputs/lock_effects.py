"""Prints the lock effects a project index records, one function per line,
sorted by name: `<name> acquires <key>,... releases <key>,...` (a key's
parts joined by '/', '-' for none).

    lock_effects.py <concguard-index.json>
"""
import json
import sys

with open(sys.argv[1]) as f:
    units = json.load(f)["units"]
lines = []
for unit in units:
    for function in unit["functions"]:
        effects = function.get("lockEffects")
        if effects is None:
            continue
        acquires = ",".join("/".join(lock["key"]) for lock in effects["acquires"])
        releases = ",".join("/".join(key) for key in effects["releases"])
        lines.append(f"{function['name']} acquires {acquires or '-'} "
                     f"releases {releases or '-'}")
for line in sorted(lines):
    print(line)
