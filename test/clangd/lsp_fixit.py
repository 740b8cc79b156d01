#!/usr/bin/env python3
"""Drive a clangd over stdio the way an editor does and check a fix-it.

    lsp_fixit.py --clangd BIN --source FILE --check NAME --fixed OUT
                 [--std S] [--no-fast-check-filter] [--clangd-arg ARG]...

Copies FILE into a fresh directory with a compile_flags.txt (-std=S) and a
.clangd that enables NAME (FastCheckFilter: None: clangd 18+ otherwise skips
checks it does not know to be fast), then: initialize, didOpen, wait for the
publishDiagnostics notification, which must carry a NAME diagnostic, request
textDocument/codeAction for it and apply the returned quick fix's edit to the
text, which it writes to OUT. It prints one line per diagnostic
("DIAG <line>:<col> <code>: <message>", 1-based) and per code action
("ACTION <title>"), and fails on an error diagnostic (e.g. a builtin header
not found), on a missing NAME diagnostic and on anything but exactly one
quick fix with an edit of the file.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 180  # seconds; the first parse of <thread> is slow on a busy box


class Server:
    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.inbox = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(out.read(length)))

    def send(self, message):
        message["jsonrpc"] = "2.0"
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def request(self, method, params):
        ident = self.next_id
        self.next_id += 1
        self.send({"id": ident, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        if "error" in reply:
            fail("%s failed: %s" % (method, reply["error"]))
        return reply.get("result")

    def wait(self, wanted):
        """Next message satisfying wanted; answers server requests on the
        way (with a null result, which is what clangd expects of a client
        that does not implement them)."""
        while True:
            try:
                message = self.inbox.get(timeout=TIMEOUT)
            except queue.Empty:
                fail("timed out waiting for clangd")
            if message is None:
                fail("clangd exited:\n" + "".join(self.stderr[-20:]))
            if "method" in message and "id" in message:
                self.send({"id": message["id"], "result": None})
                continue
            if wanted(message):
                return message


def fail(text):
    sys.stdout.flush()
    print("error: " + text, file=sys.stderr)
    sys.exit(1)


def apply_edits(text, edits):
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(pos):
        # LSP columns count UTF-16 code units; the inputs are ASCII.
        return offsets[pos["line"]] + pos["character"]

    spans = sorted(((offset(e["range"]["start"]), offset(e["range"]["end"]),
                     e["newText"]) for e in edits), reverse=True)
    for begin, end, new in spans:
        text = text[:begin] + new + text[end:]
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clangd", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--fixed", required=True)
    parser.add_argument("--std", default="c++20")
    parser.add_argument("--no-fast-check-filter", action="store_true",
                        help="leave FastCheckFilter out of .clangd")
    parser.add_argument("--user-config", default="",
                        help="text of the user's clangd/config.yaml")
    parser.add_argument("--clangd-arg", action="append", default=[],
                        help="extra clangd command-line argument")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="concguard-clangd-")
    server = None
    try:
        source = os.path.join(work, os.path.basename(args.source))
        shutil.copyfile(args.source, source)
        with open(os.path.join(work, "compile_flags.txt"), "w") as f:
            f.write("-std=%s\n" % args.std)
        with open(os.path.join(work, ".clangd"), "w") as f:
            f.write("Diagnostics:\n  ClangTidy:\n    Add: [%s]\n" % args.check)
            if not args.no_fast_check_filter:
                f.write("    FastCheckFilter: None\n")
        env = dict(os.environ)
        # The user's clangd configuration must not interfere.
        env["XDG_CONFIG_HOME"] = os.path.join(work, "xdg")
        if args.user_config:
            os.makedirs(os.path.join(work, "xdg", "clangd"))
            with open(os.path.join(work, "xdg", "clangd", "config.yaml"),
                      "w") as f:
                f.write(args.user_config)
        server = Server([args.clangd, "--log=error", "--background-index=0",
                         "--pch-storage=memory"] + args.clangd_arg, env)
        run(server, work, source, args)
    finally:
        if server and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def run(server, work, source, args):
    with open(source) as f:
        text = f.read()
    uri = "file://" + source
    server.request("initialize", {
        "processId": os.getpid(),
        "rootUri": "file://" + work,
        "capabilities": {"textDocument": {
            "publishDiagnostics": {"relatedInformation": True},
            "codeAction": {"codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "refactor"]}}},
        }},
    })
    server.notify("initialized", {})
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "cpp", "version": 1, "text": text}})

    # clangd publishes the diagnostics of a build once, clang-tidy's
    # included: the first notification for the file must carry the finding.
    def for_source(message):
        return (message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri)

    diagnostics = server.wait(for_source)["params"]["diagnostics"]
    for d in diagnostics:
        start = d["range"]["start"]
        print("DIAG %d:%d %s: %s" % (start["line"] + 1, start["character"] + 1,
                                     d.get("code"), d["message"]))
    errors = [d for d in diagnostics if d.get("severity") == 1]
    if errors:
        fail("error diagnostics: %s" % [d["message"] for d in errors])
    findings = [d for d in diagnostics if d.get("code") == args.check]
    if not findings:
        fail("no %s diagnostic" % args.check)
    finding = findings[0]

    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": finding["range"],
        "context": {"diagnostics": [finding]},
    }) or []
    for action in actions:
        print("ACTION " + action.get("title", "<command>"))
    fixes = [a for a in actions if a.get("kind") == "quickfix"
             and any(d.get("code") == args.check
                     for d in a.get("diagnostics", []))]
    if len(fixes) != 1:
        fail("expected one quick fix for %s, got %d" % (args.check, len(fixes)))
    changes = fixes[0].get("edit", {}).get("changes", {})
    if list(changes) != [uri]:
        fail("the quick fix edits %s, not only %s" % (list(changes), uri))
    with open(args.fixed, "w") as f:
        f.write(apply_edits(text, changes[uri]))

    server.request("shutdown", None)
    server.notify("exit", None)
    server.proc.wait(timeout=TIMEOUT)


if __name__ == "__main__":
    main()
