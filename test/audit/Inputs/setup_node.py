"""Installs the tests' npm packages (test/audit/package-lock.json) into
<build>/test/audit-node with `npm ci`, once per lock file content; several
lit tests may call it at the same time, so it takes a lock. Never downloads
a browser: playwright-core drives the system's Chromium.

    setup_node.py <test/audit dir> <build dir>   -> prints the node_modules dir
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys

src, build = sys.argv[1], sys.argv[2]
dest = os.path.join(build, "test", "audit-node")
os.makedirs(dest, exist_ok=True)
with open(os.path.join(src, "package-lock.json"), "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
stamp = os.path.join(dest, "installed.stamp")
with open(os.path.join(dest, ".lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not (os.path.exists(stamp) and open(stamp).read() == digest):
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, name), dest)
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                       cwd=dest, env=env, check=True, stdout=sys.stderr)
        with open(stamp, "w") as f:
            f.write(digest)
print(os.path.join(dest, "node_modules"))
