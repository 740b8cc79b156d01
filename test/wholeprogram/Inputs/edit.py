"""Small edits for the index tests, so that they need no shell tricks.

    edit.py prepend|append FILE TEXT     add a line at the start or the end
    edit.py truncate FILE N              keep the first N bytes
    edit.py set-version SRC DEST N       copy an index with version N
    edit.py damage-unit SRC DEST         copy an index with a region index
                                         out of range in its first spawn
"""
import json
import sys

verb = sys.argv[1]
if verb in ("prepend", "append"):
    path, text = sys.argv[2], sys.argv[3]
    with open(path) as f:
        content = f.read()
    content = text + "\n" + content if verb == "prepend" else content + text + "\n"
    with open(path, "w") as f:
        f.write(content)
elif verb == "truncate":
    path, size = sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:size])
else:
    with open(sys.argv[2]) as f:
        index = json.load(f)
    if verb == "set-version":
        index["version"] = int(sys.argv[4])
    elif verb == "damage-unit":
        spawn = next(s for u in index["units"] for fn in u["functions"]
                     for s in fn["spawns"])
        spawn["regionCalls"].append(10**6)
    else:
        sys.exit("unknown edit " + verb)
    with open(sys.argv[3], "w") as f:
        json.dump(index, f)
