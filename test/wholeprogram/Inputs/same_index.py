"""Checks that two project indexes hold the same units with the same facts
(the order of the units may differ: shards list theirs in shard order).

    same_index.py <a.json> <b.json>
"""
import json
import sys


def units(path):
    with open(path) as f:
        index = json.load(f)
    assert index["format"] == "concguard-index", path
    return {u["file"]: u for u in index["units"]}


a, b = units(sys.argv[1]), units(sys.argv[2])
if a != b:
    print("indexes differ: only in the first: %s, only in the second: %s, "
          "different: %s" % (sorted(set(a) - set(b)), sorted(set(b) - set(a)),
                             sorted(k for k in set(a) & set(b) if a[k] != b[k])))
    sys.exit(1)
print("%d units, same facts" % len(a))
