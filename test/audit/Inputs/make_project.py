"""Copies a test project to a fresh directory and writes its
compile_commands.json from compile_commands.json.in (@DIR@ = the copy), so
that no path of this machine is written into the tests.

    make_project.py <project dir> <destination>
"""
import os
import shutil
import sys

src, dest = sys.argv[1], os.path.abspath(sys.argv[2])
shutil.rmtree(dest, ignore_errors=True)
shutil.copytree(src, dest)
template = os.path.join(dest, "compile_commands.json.in")
with open(template) as f:
    text = f.read().replace("@DIR@", dest)
with open(os.path.join(dest, "compile_commands.json"), "w") as f:
    f.write(text)
os.remove(template)
