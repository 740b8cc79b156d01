#!/usr/bin/env python3
"""Real-world validation of concguard on Debian source packages.

Brings the projects of projects.json (Debian bookworm source packages at
pinned versions), configures each with its own CMake far enough to produce
compile_commands.json, runs concguard-audit over it, and measures what
docs/evaluation.md publishes: crashes and hangs, findings per check, the
triage of every finding (triage.json), the analysis cost against clang-tidy's
parse-only baseline, cppcheck's view diagnostics on the same files, and
concguard-rewrite on the flagged maps.

  corpus.py all                      # everything, then docs/evaluation.md
  corpus.py ci --projects leveldb    # CI: audit + crash and triage assertions
  corpus.py fetch|prepare|audit|cost|cppcheck|rewrite|triage|report

Work files (sources, builds, results) go to --work (default
$CONCGUARD_CORPUS_DIR, else ~/.cache/concguard-corpus); the concguard tools
come from --bin-dir (default: <repo>/build/bin).
"""

import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from cppcheck_views import CPPCHECK_VIEW_IDS  # noqa: E402

DEB_SRC_FILE = Path("/etc/apt/sources.list.d/concguard-deb-src.sources")
CXX_EXTENSIONS = (".cc", ".cpp", ".cxx", ".c++", ".C")
SOURCE_EXTENSIONS = CXX_EXTENSIONS + (".h", ".hh", ".hpp", ".hxx", ".inc",
                                      ".ipp", ".tcc")
# The cheapest check clang-tidy has: a comment handler with no AST matchers.
# clang-tidy refuses `-checks=-*` (or, with --allow-no-checks, exits without
# parsing), so this is the parse-only baseline that really parses.
BASELINE_CHECKS = "-*,google-readability-todo"


def log(message):
    print(f"corpus: {message}", file=sys.stderr, flush=True)


class CorpusError(Exception):
    pass


# --- configuration ---------------------------------------------------------


def load_projects(selection):
    data = json.loads((HERE / "projects.json").read_text())
    projects = data["projects"]
    if not selection or selection == "all":
        return projects
    if selection == "ci":
        return [p for p in projects if p.get("ci")]
    names = [n for n in selection.split(",") if n]
    known = {p["name"]: p for p in projects}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CorpusError(f"unknown project(s) {', '.join(unknown)}; "
                          f"known: {', '.join(known)}")
    return [known[n] for n in names]


def upstream_version(version):
    """The directory suffix dpkg-source unpacks to: no epoch, no revision."""
    version = version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


class Paths:
    def __init__(self, work, project):
        self.name = project["name"]
        self.src = work / "src" / f"{project['package']}-" \
            f"{upstream_version(project['version'])}"
        self.build = work / "build" / self.name
        self.db = work / "db" / self.name
        self.out = work / "out" / self.name

    def result(self, kind):
        return self.out / f"{kind}.json"


def write_json(path, value):
    """Writes atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def read_json(path, default=None):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


def tool(args, name):
    path = Path(args.bin_dir) / name
    if not path.exists():
        raise CorpusError(f"{path} does not exist: build concguard first "
                          f"(tools/setup.sh) or pass --bin-dir")
    return str(path)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=False, **kwargs)


# --- fetch -------------------------------------------------------------------


def missing_packages(packages):
    missing = []
    for package in packages:
        status = run(["dpkg-query", "-W", "-f=${Status}", package],
                     capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def has_deb_src():
    roots = [Path("/etc/apt/sources.list")] + \
        sorted(Path("/etc/apt/sources.list.d").glob("*"))
    for root in roots:
        if not root.is_file():
            continue
        text = root.read_text(errors="replace")
        if re.search(r"^\s*deb-src\s.*bookworm\s.*main", text, re.M) or (
                re.search(r"^Types:.*deb-src", text, re.M)
                and re.search(r"^Suites:.*\bbookworm\b", text, re.M)):
            return True
    return False


def apt_get(args):
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    result = run(prefix + ["apt-get"] + args)
    if result.returncode != 0:
        raise CorpusError(f"apt-get {' '.join(args)} failed")


def cmd_fetch(args, projects):
    packages = ["dpkg-dev", "cmake", "ninja-build", "cppcheck"]
    for project in projects:
        packages += project.get("deps", [])
    missing = missing_packages(sorted(set(packages)))
    updated = False
    if not has_deb_src():
        log(f"adding a deb-src entry for bookworm main ({DEB_SRC_FILE})")
        entry = ("Types: deb-src\nURIs: http://deb.debian.org/debian\n"
                 "Suites: bookworm\nComponents: main\n"
                 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
        if os.geteuid() == 0:
            DEB_SRC_FILE.write_text(entry)
        else:
            run(["sudo", "tee", str(DEB_SRC_FILE)], input=entry, text=True,
                stdout=subprocess.DEVNULL)
        apt_get(["update", "-q"])
        updated = True
    if missing:
        log(f"installing {' '.join(missing)}")
        if not updated:
            apt_get(["update", "-q"])
        apt_get(["install", "-y", "-q", "--no-install-recommends"] + missing)
    src = args.work / "src"
    src.mkdir(parents=True, exist_ok=True)
    for project in projects:
        paths = Paths(args.work, project)
        if paths.src.is_dir():
            continue
        spec = f"{project['package']}={project['version']}"
        log(f"apt-get source {spec}")
        result = run(["apt-get", "source", "-q", "--only-source", spec],
                     cwd=src, capture_output=True, text=True)
        if result.returncode != 0 or not paths.src.is_dir():
            raise CorpusError(f"apt-get source {spec} failed:\n"
                              f"{result.stdout}{result.stderr}")


# --- prepare -----------------------------------------------------------------


def matches(relative, globs):
    return any(fnmatch.fnmatch(relative, g) for g in globs)


def cmd_prepare(args, projects):
    for project in projects:
        paths = Paths(args.work, project)
        if not paths.src.is_dir():
            raise CorpusError(f"{paths.src} is missing: run `corpus.py fetch "
                              f"--projects {paths.name}` first")
        database = paths.build / "compile_commands.json"
        if "compile" in project:
            run_configure_script(args, project, paths)
            write_listed_database(args, project, paths, database)
        if "meson" in project:
            # Meson writes compile_commands.json into every build directory;
            # the compilers come from the environment (set below).
            cmd = ["meson", "setup", str(paths.build), str(paths.src)
                   ] + project["meson"]
        else:
            cmd = ["cmake", "-G", "Ninja", "-S", str(paths.src), "-B",
                   str(paths.build), "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                   "-DCMAKE_BUILD_TYPE=Release",
                   f"-DCMAKE_CXX_COMPILER={args.clangxx}",
                   f"-DCMAKE_C_COMPILER={args.clangxx.replace('++', '')}"
                   ] + project.get("cmake", [])
        # The configuration a build directory was made with: a changed
        # projects.json entry or compiler configures it again from scratch.
        stamp = paths.build / "concguard-configure.json"
        if "compile" in project:
            pass
        elif not database.exists() or read_json(stamp) != cmd:
            log(f"{paths.name}: configuring with {cmd[0]}")
            shutil.rmtree(paths.build, ignore_errors=True)
            env = dict(os.environ, CXX=args.clangxx,
                       CC=args.clangxx.replace("++", ""))
            result = run(cmd, capture_output=True, text=True, env=env)
            if result.returncode != 0 or not database.exists():
                raise CorpusError(f"{paths.name}: {cmd[0]} failed:\n"
                                  f"{result.stdout[-3000:]}"
                                  f"{result.stderr[-3000:]}")
            write_json(stamp, cmd)
            # Generated sources and headers (version files, split headers)
            # exist only after their targets run; build those that units need.
            generated = project.get("generate", [])
            if generated:
                result = run(["cmake", "--build", str(paths.build),
                              "--target"] + generated,
                             capture_output=True, text=True)
                if result.returncode != 0:
                    raise CorpusError(f"{paths.name}: generating "
                                      f"{generated} failed:\n"
                                      f"{result.stdout[-3000:]}")
        entries = json.loads(database.read_text())
        roots = [paths.src.resolve()]
        if project.get("include_build_tree"):
            roots.append(paths.build.resolve())
        excluded = project.get("exclude", [])
        seen, kept = set(), []
        for entry in entries:
            file = Path(entry["directory"], entry["file"]).resolve()
            if file.suffix not in CXX_EXTENSIONS or file in seen:
                continue
            root = next((r for r in roots if file.is_relative_to(r)), None)
            if root is None or (root == roots[0] and matches(
                    str(file.relative_to(root)), excluded)):
                continue
            seen.add(file)
            kept.append(dict(entry, file=str(file)))
        if not kept:
            raise CorpusError(f"{paths.name}: no C++ translation units in "
                              f"{database}")
        write_json(paths.db / "compile_commands.json", kept)
        lines = count_lines(paths.src)
        write_json(paths.result("project"), {
            "name": paths.name, "package": project["package"],
            "version": project["version"], "why": project.get("why", ""),
            "translationUnits": len(kept), "lines": lines})
        log(f"{paths.name}: {len(kept)} translation units, {lines} lines")


def run_configure_script(args, project, paths):
    """An Autoconf project's units include the config.h its ./configure
    writes; run it once in the source tree (with the project's options under
    compile.configure) before listing the units."""
    options = project["compile"].get("configure")
    if options is None or (paths.src / "config.h").exists():
        return
    # The system compilers run the configure tests: the script only writes
    # config.h, and Autoconf's Boost probes take many minutes with clang.
    log(f"{paths.name}: running ./configure")
    result = run(["./configure"] + options, cwd=paths.src,
                 capture_output=True, text=True)
    if result.returncode != 0 or not (paths.src / "config.h").exists():
        raise CorpusError(f"{paths.name}: ./configure failed:\n"
                          f"{result.stdout[-3000:]}{result.stderr[-3000:]}")


def write_listed_database(args, project, paths, database):
    """The compilation database of a project that CMake does not describe
    (a header-only library used by its examples, a Makefile project): the
    files and flags listed under "compile" in its entry."""
    compile_spec = project["compile"]
    entries = []
    for relative in compile_spec["files"]:
        file = paths.src / relative
        if not file.is_file():
            raise CorpusError(f"{paths.name}: {relative} (listed under "
                              f"'compile') is not in {paths.src}")
        entries.append({"directory": str(paths.src.resolve()),
                        "file": str(file.resolve()),
                        "arguments": [args.clangxx] + compile_spec.get(
                            "flags", []) + ["-c", str(file.resolve())]})
    write_json(database, entries)


def count_lines(src):
    total = 0
    for directory, subdirs, files in os.walk(src):
        subdirs[:] = [d for d in subdirs
                      if not (Path(directory) == src and d == "debian")]
        for name in files:
            if name.endswith(SOURCE_EXTENSIONS):
                with open(os.path.join(directory, name), "rb") as f:
                    total += sum(1 for _ in f)
    return total


# --- audit -------------------------------------------------------------------


def config_yaml(project):
    return json.dumps({"CheckOptions": project.get("options", {})})


def classify_exit(returncode):
    """concguard-audit exits 0, 1 (--fail-on) or 3 (units that do not
    compile); anything else - a signal, an assertion - is a crash."""
    return "ok" if returncode in (0, 1, 3) else "crash"


def cmd_audit(args, projects):
    audit = tool(args, "concguard-audit")
    for project in projects:
        paths = Paths(args.work, project)
        if not (paths.db / "compile_commands.json").exists():
            raise CorpusError(f"{paths.name}: no compilation database: run "
                              f"`corpus.py prepare --projects {paths.name}`")
        report = paths.out / "audit-report.json"
        cmd = [audit, "-p", str(paths.db), "--root", str(paths.src),
               "--json", str(report), "--config", config_yaml(project),
               "-j", str(args.jobs), "--progress", "plain", "--print-stats"]
        log(f"{paths.name}: concguard-audit over "
            f"{read_json(paths.result('project'), {}).get('translationUnits')}"
            f" units")
        report.unlink(missing_ok=True)
        start = time.monotonic()
        status, returncode, stderr = "ok", None, ""
        try:
            result = run(cmd, capture_output=True, text=True,
                         timeout=args.timeout)
            returncode, stderr = result.returncode, result.stderr
            status = classify_exit(returncode)
        except subprocess.TimeoutExpired:
            status = "hang"
        seconds = time.monotonic() - start
        crashes = []
        if status != "ok":
            log(f"{paths.name}: the audit ended with {status} "
                f"(exit {returncode}); finding the units one by one")
            crashes = isolate_failures(args, project, paths)
        summary = {"status": status, "exitCode": returncode,
                   "seconds": round(seconds, 1), "crashes": crashes,
                   "stderrTail": stderr[-2000:]}
        audit_report = read_json(report)
        if audit_report:
            summary["findings"] = [
                {"check": f["check"], "path": f["location"]["path"],
                 "line": f["location"].get("line", 0),
                 "message": f["message"]} for f in audit_report["findings"]]
            summary["toolErrors"] = audit_report["toolErrors"]
            summary["translationUnits"] = len(
                audit_report["translationUnits"])
        write_json(paths.result("audit"), summary)
        log(f"{paths.name}: {status}, {len(summary.get('findings', []))} "
            f"findings, {len(summary.get('toolErrors', []))} tool errors, "
            f"{seconds:.0f} s")


def database_files(paths):
    return [e["file"] for e in
            json.loads((paths.db / "compile_commands.json").read_text())]


def tidy_command(args, project, paths, checks, file, extra=()):
    return [tool(args, "concguard-tidy"), "-p", str(paths.db),
            f"--checks={checks}", f"--config={config_yaml(project)}",
            "--quiet", *extra, file]


def isolate_failures(args, project, paths):
    """Runs every unit alone to name the ones that crash or hang."""
    def one(file):
        try:
            result = run(tidy_command(args, project, paths, "-*,concguard-*",
                                      file),
                         capture_output=True, text=True,
                         timeout=args.unit_timeout)
        except subprocess.TimeoutExpired:
            return {"path": file, "status": "hang"}
        if result.returncode < 0 or result.returncode >= 128 or \
                "Assertion" in result.stderr or "Stack dump" in result.stderr:
            return {"path": file, "status": "crash",
                    "stderrTail": result.stderr[-2000:]}
        return None

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        return [r for r in pool.map(one, database_files(paths)) if r]


# --- cost --------------------------------------------------------------------


def sample(files, count):
    files = sorted(files)
    if count <= 0 or count >= len(files):
        return files
    step = len(files) / count
    return [files[int(i * step)] for i in range(count)]


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + \
        (after.ru_stime - before.ru_stime)
    return wall, cpu, result


CHECKS = ["concguard-unsynchronized-container",
          "concguard-dangling-container-view",
          "concguard-escaping-guarded-reference",
          "concguard-uncancellable-thread"]


def cmd_cost(args, projects):
    """Timings, unit by unit, of the parse-only baseline, of all concguard
    checks, and of each check alone, in an order that rotates from one unit
    to the next so that a change in the machine's load hits all alike."""
    for project in projects:
        paths = Paths(args.work, project)
        units = sample(database_files(paths), args.cost_units)
        variants = [("baseline", BASELINE_CHECKS),
                    ("concguard", "-*,concguard-*")] + \
            [(check, f"-*,{check}") for check in CHECKS]
        log(f"{paths.name}: timing {len(units)} units ({len(variants)} runs "
            f"each, interleaved)")
        wall = {name: 0.0 for name, _ in variants}
        cpu = {name: 0.0 for name, _ in variants}
        failures = []
        for index, file in enumerate(units):
            shift = index % len(variants)
            for name, checks in variants[shift:] + variants[:shift]:
                seconds, cpu_seconds, result = timed(
                    tidy_command(args, project, paths, checks, file))
                if result.returncode not in (0, 1):
                    failures.append({"path": file, "variant": name,
                                     "exitCode": result.returncode})
                wall[name] += seconds
                cpu[name] += cpu_seconds
            log(f"{paths.name}: {index + 1}/{len(units)} "
                f"{Path(file).name}")
        base = wall["baseline"]

        def ratio(values, name):
            return round(values[name] / values["baseline"], 3) \
                if values["baseline"] else None

        write_json(paths.result("cost"), {
            "units": len(units),
            "baselineWall": round(base, 2),
            "concguardWall": round(wall["concguard"], 2),
            "baselineCpu": round(cpu["baseline"], 2),
            "concguardCpu": round(cpu["concguard"], 2),
            "wallRatio": ratio(wall, "concguard"),
            "cpuRatio": ratio(cpu, "concguard"),
            "perCheckWallRatio": {c: ratio(wall, c) for c in CHECKS},
            "perCheckCpuRatio": {c: ratio(cpu, c) for c in CHECKS},
            "failures": failures})
        log(f"{paths.name}: wall ratio {ratio(wall, 'concguard')}, "
            f"cpu ratio {ratio(cpu, 'concguard')}")


# --- cppcheck ------------------------------------------------------------------


def cmd_cppcheck(args, projects):
    """cppcheck on the same units as the audit (or an even sample of
    --cppcheck-units), each alone with a timeout, so that a slow unit cannot
    hide the others; its view diagnostics are kept."""
    cppcheck = shutil.which("cppcheck")
    if not cppcheck:
        raise CorpusError("cppcheck is not installed (corpus.py fetch "
                          "installs it)")
    for project in projects:
        paths = Paths(args.work, project)
        units = sample(database_files(paths), args.cppcheck_units)
        log(f"{paths.name}: cppcheck on {len(units)} units")
        database = paths.db / "compile_commands.json"

        def one(file):
            # cppcheck matches its filter against the paths it prints, which
            # are absolute when the compilation database's path is.
            cmd = [cppcheck, f"--project={database.resolve()}",
                   f"--file-filter={file}",
                   "--enable=warning", "--inconclusive", "-q",
                   "--max-configs=1",
                   "--template={file}:{line}:{column}: {severity} {id}: "
                   "{message}"]
            start = time.monotonic()
            # Its own process group, so that a timeout stops all of it.
            with tempfile.TemporaryFile("w+") as errors:
                process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                           stderr=errors,
                                           start_new_session=True)
                status = "ok"
                try:
                    process.wait(timeout=args.unit_timeout)
                except subprocess.TimeoutExpired:
                    status = "timeout"
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                errors.seek(0)
                output = errors.read()
                if status == "ok" and (process.returncode != 0 or
                                       "cppcheck: error" in output):
                    status = "error"
                return file, status, time.monotonic() - start, output

        src = str(paths.src.resolve())
        views, statuses, seconds = [], {}, 0.0
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for file, status, took, output in pool.map(one, units):
                statuses[os.path.relpath(file, src)] = status
                seconds += took
                for line in output.splitlines():
                    match = re.match(r"(.+?):(\d+):(\d+): \w+ (\w+): (.*)",
                                     line)
                    if not match or match[4] not in CPPCHECK_VIEW_IDS:
                        continue
                    path = str(Path(match[1]).resolve())
                    if not path.startswith(src + "/"):
                        continue
                    views.append({"path": os.path.relpath(path, src),
                                  "line": int(match[2]), "id": match[4],
                                  "message": match[5]})
        # One diagnostic in a header seen from several units counts once.
        unique = {(v["path"], v["line"], v["id"]): v for v in views}
        write_json(paths.result("cppcheck"), {
            "units": sorted(statuses),
            "timeouts": sorted(u for u, s in statuses.items() if s != "ok"),
            "seconds": round(seconds, 1),
            "views": sorted(unique.values(),
                            key=lambda v: (v["path"], v["line"]))})
        log(f"{paths.name}: cppcheck {len(unique)} view diagnostics, "
            f"{seconds:.0f} s of cppcheck time")


# --- rewrite -------------------------------------------------------------------


SUMMARY_RE = re.compile(r"rewrote (\d+) of (\d+) flagged maps?(?:, skipped "
                        r"(\d+))?")
SKIP_RE = re.compile(r"^\s+(\S+) \((.*?)\): (.*) \[(.*)\]$")


def cmd_rewrite(args, projects):
    """concguard-rewrite over the units with an unsynchronized-container
    finding, in a copy of the sources; then the changed units are compiled
    against the runtime."""
    rewrite = tool(args, "concguard-rewrite")
    for project in projects:
        paths = Paths(args.work, project)
        audit = read_json(paths.result("audit"), {})
        flagged = {f["path"] for f in audit.get("findings", [])
                   if f["check"] == "concguard-unsynchronized-container"}
        if not flagged:
            write_json(paths.result("rewrite"), {"flaggedFiles": 0})
            continue
        copy = args.work / "rewrite" / paths.name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(paths.src, copy, symlinks=True)
        src, dst = str(paths.src.resolve()), str(copy.resolve())
        entries = [dict(e, file=e["file"].replace(src, dst),
                        command=e.get("command", "").replace(src, dst),
                        arguments=[a.replace(src, dst)
                                   for a in e.get("arguments", [])])
                   for e in json.loads(
                       (paths.db / "compile_commands.json").read_text())]
        for entry in entries:
            if not entry["arguments"]:
                del entry["arguments"]
        copy_db = args.work / "rewrite" / f"{paths.name}-db"
        write_json(copy_db / "compile_commands.json", entries)
        # Units whose main file has a finding, or that sit beside a header
        # with one (same stem): those that declare and use the map.
        stems = {Path(p).with_suffix("").as_posix() for p in flagged}
        units = [e["file"] for e in entries
                 if Path(os.path.relpath(e["file"], dst)).with_suffix(
                     "").as_posix() in stems]
        cmd = [rewrite, "-p", str(copy_db), "--in-place",
               f"--config={config_yaml(project)}"] + units
        result = run(cmd, capture_output=True, text=True)
        summary = {"flaggedFiles": len(flagged), "units": len(units),
                   "exitCode": result.returncode, "skipped": []}
        match = SUMMARY_RE.search(result.stderr + result.stdout)
        if match:
            summary["rewritten"] = int(match[1])
            summary["flagged"] = int(match[2])
        for line in (result.stderr + result.stdout).splitlines():
            skip = SKIP_RE.match(line)
            if skip:
                summary["skipped"].append({"map": skip[1], "reason": skip[3],
                                           "at": os.path.relpath(skip[4],
                                                                 dst)
                                           if skip[4].startswith("/")
                                           else skip[4]})
        changed = run(["diff", "-rq", str(paths.src), str(copy)],
                      capture_output=True, text=True).stdout.splitlines()
        summary["changedFiles"] = len(changed)
        # The changed project still compiles: every unit rewritten, with the
        # runtime's include directory added.
        include = run([rewrite, "--print-runtime-include-dir"],
                      capture_output=True, text=True).stdout.strip()
        failed = []
        if changed:
            for entry in entries:
                if entry["file"] not in units:
                    continue
                compile_cmd = entry.get("arguments") or entry["command"].split()
                compile_cmd = [a for a in compile_cmd]
                out_index = compile_cmd.index("-o") if "-o" in compile_cmd \
                    else None
                if out_index is not None:
                    del compile_cmd[out_index:out_index + 2]
                compile_cmd += ["-fsyntax-only", f"-I{include}"]
                built = run(compile_cmd, cwd=entry["directory"],
                            capture_output=True, text=True)
                if built.returncode != 0:
                    failed.append({"path": os.path.relpath(entry["file"], dst),
                                   "error": built.stderr[-1500:]})
        summary["compileFailures"] = failed
        summary["stillBuilds"] = not failed
        write_json(paths.result("rewrite"), summary)
        log(f"{paths.name}: rewrote {summary.get('rewritten')} of "
            f"{summary.get('flagged')} maps, {len(changed)} files changed, "
            f"{'still builds' if not failed else 'DOES NOT BUILD'}")


# --- triage --------------------------------------------------------------------


def load_triage(args):
    return json.loads(Path(args.triage).read_text())


def triage_key(project, finding):
    return (project, finding["check"], finding["path"], finding["line"])


def cmd_triage(args, projects, strict=False):
    """Matches every finding against triage.json. With --strict (CI): fails
    on a crash, a hang, a finding nobody triaged, or a triaged finding that
    is no longer reported."""
    triaged = {}
    for entry in load_triage(args)["findings"]:
        triaged[(entry["project"], entry["check"], entry["path"],
                 entry["line"])] = entry
    problems = []
    for project in projects:
        paths = Paths(args.work, project)
        audit = read_json(paths.result("audit"))
        if audit is None:
            problems.append(f"{paths.name}: no audit result (run `corpus.py "
                            f"audit --projects {paths.name}`)")
            continue
        if audit["status"] != "ok" or audit["crashes"]:
            problems.append(f"{paths.name}: the audit ended with "
                            f"{audit['status']}: {audit['crashes']}")
        found = set()
        for finding in audit.get("findings", []):
            key = triage_key(paths.name, finding)
            found.add(key)
            if key not in triaged:
                problems.append(
                    f"{paths.name}: untriaged finding {finding['path']}:"
                    f"{finding['line']}: {finding['message']} "
                    f"[{finding['check']}]")
        for key, entry in triaged.items():
            if key[0] == paths.name and key not in found:
                problems.append(
                    f"{paths.name}: triaged {entry['verdict']} finding "
                    f"{key[2]}:{key[3]} [{key[1]}] is no longer reported "
                    f"(update triage.json)")
        if audit.get("toolErrors"):
            problems.append(f"{paths.name}: {len(audit['toolErrors'])} units "
                            f"did not compile: {audit['toolErrors'][:3]}")
    for problem in problems:
        print(problem)
    print(f"triage: {len(projects)} project(s), {len(problems)} problem(s)",
          flush=True)
    if strict and problems:
        raise CorpusError(f"{len(problems)} triage problem(s)")


# --- report --------------------------------------------------------------------


def cmd_report(args, projects):
    from report import write_report  # pylint: disable=import-outside-toplevel
    triage = load_triage(args)
    rows = []
    for project in projects:
        paths = Paths(args.work, project)
        rows.append({kind: read_json(paths.result(kind), {}) for kind in (
            "project", "audit", "cost", "cppcheck", "rewrite")})
    output = Path(args.output)
    text = write_report(rows, triage, " ".join(
        ["test/corpus/corpus.py"] + sys.argv[1:]))
    previous = output.read_text() if output.exists() else ""
    # A stage this run has no results for (cost, cppcheck and rewrite take
    # hours; `audit` and `triage` alone are often what was re-run) keeps
    # the section the last run that measured it wrote, marked as such,
    # rather than a section that says there was nothing to measure.
    for stage, title in STAGE_SECTIONS.items():
        if any(row[stage] for row in rows):
            continue
        kept = markdown_section(previous, title)
        if kept and REPORT_KEPT_NOTE not in kept:
            kept = kept.rstrip("\n") + "\n\n" + REPORT_KEPT_NOTE + "\n"
        if kept:
            text = replace_markdown_section(text, title, kept)
    if KNOWN_BUGS_BEGIN in previous and KNOWN_BUGS_END in previous:
        kept = previous[previous.index(KNOWN_BUGS_BEGIN):
                        previous.index(KNOWN_BUGS_END) + len(KNOWN_BUGS_END)]
        text = text.rstrip("\n") + "\n\n" + kept + "\n"
    output.write_text(text)
    log(f"wrote {output}")


# The report's sections written from each stage other than the audit.
STAGE_SECTIONS = {"cost": "## Analysis cost",
                  "cppcheck": "## Views: concguard and cppcheck",
                  "rewrite": "## concguard-rewrite on the flagged maps"}
REPORT_KEPT_NOTE = ("(Kept from the last report that ran this stage: the "
                    "run that wrote this page did not.)")


def markdown_section(text, title):
    """The section of `text` that starts with the heading line `title`, up
    to the next heading of the same level or a marker comment; None when
    absent."""
    lines = text.split("\n")
    if title not in lines:
        return None
    start = lines.index(title)
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## ") and \
            not lines[end].startswith("<!--"):
        end += 1
    return "\n".join(lines[start:end]).rstrip("\n") + "\n"


def replace_markdown_section(text, title, section):
    current = markdown_section(text, title)
    if current is None:
        return text
    return text.replace(current, section, 1)


# --- known bugs --------------------------------------------------------------

# What each kind of known bug is, and the check that must report it.
KIND_CHECKS = {
    "race": "concguard-unsynchronized-container",
    "view": "concguard-dangling-container-view",
    "escape": "concguard-escaping-guarded-reference",
    "thread": "concguard-uncancellable-thread",
}
BUG_FIELDS = ("id", "project", "package", "version", "file", "lines",
              "upstream", "description", "kind", "units", "expected")


def load_known_bugs(path):
    """Reads known_bugs.json and checks its shape, so that a typo is an
    error here rather than a bug that silently never matches."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CorpusError(f"cannot read {path}: {error}") from error
    corpus = {p["name"]: p for p in
              json.loads((HERE / "projects.json").read_text())["projects"]}
    projects = dict(corpus)
    for project in data.get("projects", []):
        projects[project["name"]] = project
    problems, ids = [], set()
    for bug in data["bugs"]:
        name = bug.get("id", "?")
        missing = [f for f in BUG_FIELDS if f not in bug]
        if missing:
            problems.append(f"{name}: missing {', '.join(missing)}")
            continue
        if name in ids:
            problems.append(f"{name}: duplicate id")
        ids.add(name)
        if bug["project"] not in projects:
            problems.append(f"{name}: unknown project {bug['project']}")
        elif (bug["package"], bug["version"]) != (
                projects[bug["project"]]["package"],
                projects[bug["project"]]["version"]):
            problems.append(f"{name}: package and version differ from "
                            f"project {bug['project']}'s")
        # One accepted finding, or a list of them (a race may be reported
        # at either of its two accesses).
        if isinstance(bug["expected"], dict):
            bug["expected"] = [bug["expected"]]
        for expected in bug["expected"]:
            if bug["kind"] not in KIND_CHECKS:
                problems.append(f"{name}: kind {bug['kind']} is not one of "
                                f"{', '.join(KIND_CHECKS)}")
            elif expected.get("check") != KIND_CHECKS[bug["kind"]]:
                problems.append(f"{name}: a {bug['kind']} bug is reported "
                                f"by {KIND_CHECKS[bug['kind']]}")
            first, last = expected.get("lines", [0, -1])
            if first > last or not expected.get("path"):
                problems.append(f"{name}: expected needs a path and lines "
                                f"[first, last]")
    for project in data.get("floor", {}):
        if project not in projects:
            problems.append(f"floor: unknown project {project}")
    if problems:
        raise CorpusError(f"{path}: " + "; ".join(problems))
    data["projectsByName"] = projects
    return data


def select_known_bug_projects(data, selection):
    """Project names with known bugs: all, 'ci' (the list in the data) or
    the given names."""
    with_bugs = list(dict.fromkeys(b["project"] for b in data["bugs"]))
    if not selection or selection == "all":
        return with_bugs
    names = data.get("ci", []) if selection == "ci" else \
        [n for n in selection.split(",") if n]
    unknown = [n for n in names if n not in with_bugs]
    if unknown:
        raise CorpusError(f"no known bugs in {', '.join(unknown)}; projects "
                          f"with known bugs: {', '.join(with_bugs)}")
    return names


def known_bugs_result(paths):
    return paths.out / "known-bugs-audit.json"


def audit_known_bug_units(args, project, bugs):
    """concguard-audit over the units the project's bugs span, as a user
    would run it on those files: the project's compilation database, its
    check options, every concguard check."""
    audit = tool(args, "concguard-audit")
    paths = Paths(args.work, project)
    units = sorted({u for bug in bugs for u in bug["units"]})
    on_disk = {os.path.relpath(f, paths.src.resolve())
               for f in database_files(paths)}
    absent = [u for u in units if not any(fnmatch.fnmatch(f, u)
                                          for f in on_disk)]
    report = paths.out / "known-bugs-report.json"
    report.unlink(missing_ok=True)
    cmd = [audit, "-p", str(paths.db), "--root", str(paths.src),
           "--include", ",".join(units), "--json", str(report),
           "--config", config_yaml(project), "-j", str(args.jobs),
           "--progress", "none"]
    log(f"{paths.name}: concguard-audit over {len(units)} known-bug unit(s)")
    start = time.monotonic()
    try:
        result = run(cmd, capture_output=True, text=True,
                     timeout=args.timeout)
        status, code, stderr = classify_exit(result.returncode), \
            result.returncode, result.stderr
    except subprocess.TimeoutExpired:
        status, code, stderr = "hang", None, ""
    summary = {"status": status, "exitCode": code, "units": units,
               "unitsNotInDatabase": absent,
               "seconds": round(time.monotonic() - start, 1),
               "stderrTail": stderr[-2000:], "findings": [],
               "toolErrors": []}
    audit_report = read_json(report)
    if audit_report:
        summary["findings"] = [
            {"check": f["check"], "path": f["location"]["path"],
             "line": f["location"].get("line", 0), "message": f["message"]}
            for f in audit_report["findings"]]
        summary["toolErrors"] = [
            {"path": os.path.relpath(e["path"], paths.src.resolve())
             if str(e.get("path", "")).startswith("/") else e.get("path"),
             "message": (e.get("message") or "")[:300]}
            for e in audit_report["toolErrors"]]
    write_json(known_bugs_result(paths), summary)
    failed_units = {e["path"] for e in summary["toolErrors"]}
    log(f"{paths.name}: {status}, {len(summary['findings'])} findings, "
        f"{len(failed_units)} units that do not compile")


def bug_found(bug, finding):
    return any(finding["check"] == expected["check"] and
               finding["path"] == expected["path"] and
               expected["lines"][0] <= finding["line"] <= expected["lines"][1]
               for expected in bug["expected"])


def score_known_bugs(args, data, names):
    """Found / missed per bug, and every other finding in the same units
    matched against the triage (known_bugs.json's own, then triage.json)."""
    triage = {(t["project"], t["check"], t["path"], t["line"]): t
              for t in data.get("triage", [])}
    corpus_triage = {(t["project"], t["check"], t["path"], t["line"]): t
                     for t in load_triage(args)["findings"]}
    outcome = {"bugs": [], "otherFindings": [], "problems": [],
               "projects": {}}
    for name in names:
        project = data["projectsByName"][name]
        paths = Paths(args.work, project)
        bugs = [b for b in data["bugs"] if b["project"] == name]
        audit = read_json(known_bugs_result(paths))
        if audit is None:
            outcome["problems"].append(
                f"{name}: no known-bugs audit result (run `corpus.py "
                f"known-bugs --projects {name}`)")
            continue
        outcome["projects"][name] = {
            "package": project["package"], "version": project["version"],
            "status": audit["status"], "units": audit["units"],
            "toolErrors": audit["toolErrors"], "seconds": audit["seconds"]}
        if audit["status"] != "ok":
            outcome["problems"].append(f"{name}: the audit ended with "
                                       f"{audit['status']}")
        if audit.get("unitsNotInDatabase"):
            outcome["problems"].append(
                f"{name}: units not in the compilation database: "
                f"{', '.join(audit['unitsNotInDatabase'])}")
        failed_units = {e["path"] for e in audit["toolErrors"]}
        matched = set()
        for bug in bugs:
            hits = [f for f in audit["findings"] if bug_found(bug, f)]
            matched.update(id(f) for f in hits)
            broken = sorted(
                u for u in failed_units
                if any(fnmatch.fnmatch(u, g) for g in bug["units"]))
            outcome["bugs"].append({
                "id": bug["id"], "project": name, "kind": bug["kind"],
                "found": bool(hits),
                "toolError": bool(broken) and not hits,
                "findings": [f"{f['path']}:{f['line']}" for f in hits]})
        reported = set()
        for finding in audit["findings"]:
            if id(finding) in matched:
                continue
            key = (name, finding["check"], finding["path"], finding["line"])
            reported.add(key)
            entry = triage.get(key) or corpus_triage.get(key)
            outcome["otherFindings"].append(dict(
                finding, project=name,
                verdict=entry["verdict"] if entry else None,
                reason=entry["reason"] if entry else None))
            if entry is None:
                outcome["problems"].append(
                    f"{name}: untriaged finding {finding['path']}:"
                    f"{finding['line']}: {finding['message']} "
                    f"[{finding['check']}]")
        for key, entry in triage.items():
            if key[0] == name and key not in reported:
                outcome["problems"].append(
                    f"{name}: triaged {entry['verdict']} finding {key[2]}:"
                    f"{key[3]} [{key[1]}] is no longer reported (update "
                    f"known_bugs.json)")
        found = sum(1 for b in outcome["bugs"]
                    if b["project"] == name and b["found"])
        floor = data.get("floor", {}).get(name, 0)
        outcome["projects"][name].update(found=found, total=len(bugs),
                                         floor=floor)
        if found < floor:
            outcome["problems"].append(
                f"{name}: recall fell: {found} of {len(bugs)} known bugs "
                f"found, the floor in known_bugs.json is {floor}")
    return outcome


def cmd_known_bugs(args, _projects):
    data = load_known_bugs(args.known_bugs)
    names = select_known_bug_projects(data, args.projects)
    projects = [data["projectsByName"][n] for n in names]
    if not args.no_audit:
        if not args.no_fetch:
            cmd_fetch(args, projects)
        cmd_prepare(args, projects)
        for project in projects:
            audit_known_bug_units(args, project, [
                b for b in data["bugs"] if b["project"] == project["name"]])
    outcome = score_known_bugs(args, data, names)
    for bug in outcome["bugs"]:
        state = "found" if bug["found"] else \
            "tool error" if bug["toolError"] else "missed"
        print(f"{bug['id']}: {state}")
    found = sum(b["found"] for b in outcome["bugs"])
    print(f"known bugs: {found} of {len(outcome['bugs'])} found, "
          f"{len(outcome['otherFindings'])} other finding(s), "
          f"{len(outcome['problems'])} problem(s)", flush=True)
    for problem in outcome["problems"]:
        print(problem)
    sys.stdout.flush()
    if args.report:
        from report import write_known_bugs_section  # pylint: disable=C0415
        command = " ".join(["test/corpus/corpus.py"] + sys.argv[1:])
        section = write_known_bugs_section(data, outcome, command)
        replace_known_bugs_section(Path(args.output), section)
        log(f"wrote the known-bugs section of {args.output}")
    if args.strict and outcome["problems"]:
        raise CorpusError(f"{len(outcome['problems'])} known-bugs "
                          f"problem(s)")


KNOWN_BUGS_BEGIN = "<!-- known-bugs: begin -->"
KNOWN_BUGS_END = "<!-- known-bugs: end -->"


def replace_known_bugs_section(output, section):
    """The recall section lives between two markers of evaluation.md, so
    that `report` and `known-bugs` each rewrite only their own part."""
    text = output.read_text() if output.exists() else ""
    block = f"{KNOWN_BUGS_BEGIN}\n{section}\n{KNOWN_BUGS_END}"
    if KNOWN_BUGS_BEGIN in text and KNOWN_BUGS_END in text:
        head, rest = text.split(KNOWN_BUGS_BEGIN, 1)
        tail = rest.split(KNOWN_BUGS_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    output.write_text(text)


# --- main ------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=[
        "fetch", "prepare", "audit", "cost", "cppcheck", "rewrite", "triage",
        "report", "ci", "all", "known-bugs"])
    parser.add_argument("--projects", default="all",
                        help="comma-separated names, 'ci' or 'all'")
    parser.add_argument("--work", type=Path, default=Path(os.environ.get(
        "CONCGUARD_CORPUS_DIR",
        Path.home() / ".cache" / "concguard-corpus")))
    parser.add_argument("--bin-dir", default=str(REPO / "build" / "bin"))
    parser.add_argument("--clangxx", default="clang++-22",
                        help="the compiler the projects are configured with")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--timeout", type=int, default=4 * 3600,
                        help="seconds before an audit counts as a hang")
    parser.add_argument("--unit-timeout", type=int, default=600,
                        help="seconds before one unit counts as a hang")
    parser.add_argument("--cost-units", type=int, default=12,
                        help="units timed per project (0: all)")
    parser.add_argument("--cppcheck-units", type=int, default=0,
                        help="units cppcheck analyses per project (0: all)")
    parser.add_argument("--triage", default=str(HERE / "triage.json"),
                        help="the triage file")
    parser.add_argument("--strict", action="store_true",
                        help="triage: exit 1 on any problem")
    parser.add_argument("--known-bugs", default=str(HERE /
                                                    "known_bugs.json"),
                        help="known-bugs: the list of known bugs")
    parser.add_argument("--no-audit", action="store_true",
                        help="known-bugs: score the results already in "
                        "--work")
    parser.add_argument("--no-fetch", action="store_true",
                        help="known-bugs: the sources are already fetched")
    parser.add_argument("--no-report", dest="report", action="store_false",
                        help="known-bugs: do not rewrite the recall "
                        "section of --output")
    parser.add_argument("--output", default=str(REPO / "docs" /
                                                "evaluation.md"))
    args = parser.parse_args()
    args.work = args.work.resolve()
    try:
        projects = [] if args.command == "known-bugs" else \
            load_projects(args.projects)
        steps = {
            "fetch": [cmd_fetch], "prepare": [cmd_prepare],
            "audit": [cmd_audit], "cost": [cmd_cost],
            "cppcheck": [cmd_cppcheck], "rewrite": [cmd_rewrite],
            "triage": [lambda a, p: cmd_triage(a, p, a.strict)],
            "report": [cmd_report],
            "known-bugs": [cmd_known_bugs],
            "ci": [cmd_prepare, cmd_audit,
                   lambda a, p: cmd_triage(a, p, True)],
            "all": [cmd_fetch, cmd_prepare, cmd_audit, cmd_cost, cmd_cppcheck,
                    cmd_rewrite, lambda a, p: cmd_triage(a, p, False),
                    cmd_report],
        }[args.command]
        for step in steps:
            step(args, projects)
    except CorpusError as error:
        print(f"corpus: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
