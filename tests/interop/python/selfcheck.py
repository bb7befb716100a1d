#!/usr/bin/env python3
"""Checks the Python peers against Twisted itself; exits non-zero on a failure.

    target/interop-venv/bin/python tests/interop/python/selfcheck.py

jelly_peer.py: every `kind: value` vector of tests/vectors/twisted-vectors.json
goes to the peer twice, as Banana bytes ({"banana_pb": ...}) and as its typed
value ({"typed": ...}); the answer's value and bytes must be the vector's,
except where Twisted's permissive unjelly gives another object than the one
the vector was made from (EXPECTED_DIFFERENT_BYTES, EXPECTED_ERROR below).  A
few more requests pin down the peer's error answers and the values that do
not survive a trip through Twisted unchanged.

login_client.py against login_server.py, and cred_client.py against
cred_server.py (each server on a free port, stdin a pipe): the clients' exact
output and exit status, the servers' `login`/`logout`/`stopped observing`
lines, and that each server exits 0 with nothing more to say once its stdin
is closed.
"""

import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "jelly_peer.py"
LINE_LIMIT = 30.0  # seconds to wait for a server's line: only turns a hang into a failure
CLIENT_LIMIT = 90.0  # seconds for a client run, likewise
VECTORS = HERE.parent.parent / "vectors" / "twisted-vectors.json"

sys.path.insert(0, str(HERE))
from typed import banana_encode  # noqa: E402

# The value comes back, but Twisted jellies the unjellied object differently.
EXPECTED_DIFFERENT_BYTES = {
    "plain_instance_via_pb": (
        "unjelly turns ['unpersistable', reason] into a jelly.Unpersistable instance, "
        "which jelly.jelly() sends as an ordinary instance of "
        "twisted.spread.jelly.Unpersistable with a {'reason': ...} state"
    ),
}
# The vector has no `value`: what unjelly gives has no typed value form.
EXPECTED_ERROR = {
    "class_ref_jelly_only": "unjelly gives the class __main__.PlainThing itself",
}


class Peer:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(PEER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the peer closed its output")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        code = self.proc.wait(timeout=30)
        return code, rest


class Checker:
    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, ok, what):
        self.count += 1
        if not ok:
            self.failures.append(what)
            sys.stderr.write(f"FAIL: {what}\n")


def sexp_hex(sexp):
    return banana_encode(sexp, b"pb").hex()


def vector_checks(peer, c):
    doc = json.loads(VECTORS.read_text(encoding="utf-8"))
    vectors = [v for v in doc["vectors"] if v["kind"] == "value"]
    c.check(len(vectors) > 0, "no value vectors found")
    for v in vectors:
        name = v["name"]
        got = peer.ask({"banana_pb": v["banana_pb"]})
        if name in EXPECTED_ERROR:
            c.check("error" in got and "value" not in v, f"{name}: expected an error, got {got}")
            continue
        c.check("error" not in got, f"{name}: peer error {got.get('error')}")
        if "error" in got:
            continue
        c.check(got["value"] == v["value"], f"{name}: value {got['value']} != {v['value']}")
        if name in EXPECTED_DIFFERENT_BYTES:
            c.check(got["banana_pb"] != v["banana_pb"], f"{name}: bytes expected to differ")
            again = peer.ask({"banana_pb": got["banana_pb"]})
            c.check(again.get("value") == v["value"], f"{name}: re-jellied bytes give {again}")
        else:
            c.check(got["banana_pb"] == v["banana_pb"], f"{name}: bytes {got['banana_pb']} != {v['banana_pb']}")

        typed = peer.ask({"typed": v["value"]})
        c.check("error" not in typed, f"{name}: typed request: peer error {typed.get('error')}")
        if "error" in typed:
            continue
        c.check(typed["value"] == v["value"], f"{name}: typed request: value {typed['value']}")
        if name in EXPECTED_DIFFERENT_BYTES:
            c.check(typed["banana_pb"] == got["banana_pb"], f"{name}: typed request: bytes {typed['banana_pb']}")
        else:
            c.check(typed["banana_pb"] == v["banana_pb"], f"{name}: typed request: bytes {typed['banana_pb']}")


def I(n):  # noqa: E743
    return {"int": str(n)}


def S(s):
    return {"str": s}


def thing(state):
    return {"instance": "interop_classes.Thing", "state": state}


def behaviour_checks(peer, c):
    def expect_value(request, value, what):
        got = peer.ask(request)
        c.check(got.get("value") == value, f"{what}: got {got}, expected value {value}")
        return got

    def expect_error(request, prefix, what):
        got = peer.ask(request)
        c.check(got.get("error", "").startswith(prefix), f"{what}: got {got}, expected error {prefix}")

    # The examples of the brief.
    expect_value({"banana_pb": "01800187"}, None, "None")
    expect_error({"banana_pb": "zz"}, "builtins.ValueError: ", "bad hex")
    shared = {"list": [{"id": 1, "list": []}, {"ref": 1}]}
    got = expect_value({"typed": shared}, shared, "shared list")
    want = sexp_hex([b"list", [b"reference", 1, [b"list"]], [b"dereference", 1]])
    c.check(got.get("banana_pb") == want, f"shared list bytes {got.get('banana_pb')} != {want}")

    # Errors: bad requests, bad Banana, unknown classes.
    expect_error({"nonsense": 1}, "builtins.ValueError: ", "unknown request")
    expect_error({"banana_pb": "0180018701800187"}, "typed.TypedError: expected one expression", "two expressions")
    expect_error({"banana_pb": "0280"}, "typed.TypedError: incomplete banana data", "truncated")
    expect_error({"banana_pb": sexp_hex([b"nosuchmodule.X", [b"dictionary"]])}, "builtins.ModuleNotFoundError", "unknown module")
    expect_error({"typed": {"ref": 1}}, "typed.TypedError: ref to unknown id", "unknown ref")
    expect_error({"typed": {"id": 1, "tuple": [{"tuple": [{"ref": 1}]}]}}, "typed.TypedError: a cycle", "tuple cycle")
    expect_error({"typed": {"int": str(2**448)}}, "twisted.spread.banana.BananaError", "int too large")
    # The peer still answers after errors (and after a non-JSON line).
    peer.proc.stdin.write("not json\n")
    peer.proc.stdin.flush()
    line = json.loads(peer.proc.stdout.readline())
    c.check(line.get("error", "").startswith("json.decoder.JSONDecodeError"), f"non-JSON line: {line}")

    # interop_classes.Thing, both ways.
    t = thing({"dict": [[S("a"), I(1)], [S("b"), {"list": []}]]})
    wire = sexp_hex([b"interop_classes.Thing", [b"dictionary", [[b"unicode", b"a"], 1], [[b"unicode", b"b"], [b"list"]]]])
    got = expect_value({"banana_pb": wire}, t, "Thing")
    c.check(got.get("banana_pb") == wire, f"Thing bytes {got.get('banana_pb')} != {wire}")
    got = expect_value({"typed": t}, t, "typed Thing")
    c.check(got.get("banana_pb") == wire, f"typed Thing bytes {got.get('banana_pb')} != {wire}")
    cyclic = {"id": 1, "instance": "interop_classes.Thing", "state": {"dict": [[S("me"), {"ref": 1}]]}}
    got = expect_value({"typed": cyclic}, cyclic, "Thing in a cycle")
    expect_value({"banana_pb": got.get("banana_pb", "")}, cyclic, "Thing in a cycle, from bytes")

    # What does not survive a Twisted round trip unchanged.
    # - Python 3.11+ jellies an instance with an empty __dict__ with state None.
    expect_value({"typed": thing({"dict": []})}, thing(None), "empty Thing")
    # - A state that is not a dict is dropped by unjelly (the class has no __setstate__).
    expect_value({"banana_pb": sexp_hex([b"interop_classes.Thing", [b"list", 1]])}, thing(None), "Thing with list state")
    # - The empty tuple is one object in CPython, so two of them are shared.
    expect_value(
        {"typed": {"list": [{"tuple": []}, {"tuple": []}]}},
        {"list": [{"id": 1, "tuple": []}, {"ref": 1}]},
        "two empty tuples",
    )
    two = sexp_hex([b"list", [b"tuple"], [b"tuple"]])
    got = expect_value({"banana_pb": two}, {"list": [{"id": 1, "tuple": []}, {"ref": 1}]}, "two empty tuples on the wire")
    c.check(got.get("banana_pb") != two, "two empty tuples are re-jellied with a reference")
    # - Sets come back in Python's iteration order.
    expect_value({"typed": {"set": [I(3), I(1), I(2)]}}, {"set": [I(1), I(2), I(3)]}, "set order")
    # - Equal keys (1 == True == 1.0) are one dict key; the first key and the last value stay.
    expect_value(
        {"typed": {"dict": [[I(1), S("a")], [True, S("b")]]}},
        {"dict": [[I(1), S("b")]]},
        "equal dict keys",
    )
    # - Decimal -0 is sent as coefficient 0 and comes back positive.
    got = expect_value({"typed": {"decimal": ["-0", 0]}}, {"decimal": ["-0", 0]}, "Decimal -0")
    expect_value({"banana_pb": got.get("banana_pb", "")}, {"decimal": ["0", 0]}, "Decimal -0 from bytes")
    # - NaN payloads and signs survive.
    nan = {"float": "fff8000000000001"}
    expect_value({"typed": nan}, nan, "NaN payload")
    # - A tuple reached again through a list in itself is built, as unjelly builds it.
    loop = {"id": 1, "tuple": [{"list": [{"ref": 1}]}]}
    got = expect_value({"typed": loop}, loop, "tuple cycle through a list")
    expect_value({"banana_pb": got.get("banana_pb", "")}, loop, "tuple cycle through a list, from bytes")
    # - An unpersistable comes back as itself, but is jellied as an instance.
    u = {"unpersistable": "why"}
    got = expect_value({"typed": u}, u, "unpersistable")
    want = sexp_hex([b"twisted.spread.jelly.Unpersistable", [b"dictionary", [[b"unicode", b"reason"], [b"unicode", b"Unpersistable data: b'why'"]]]])
    c.check(got.get("banana_pb") == want, f"unpersistable bytes {got.get('banana_pb')} != {want}")


class Server:
    """A server program (login_server.py, cred_server.py) on a free port,
    its stdin a pipe (closing it stops the server), its stdout read line by
    line, its stderr (Twisted's log) kept for when something fails."""

    def __init__(self, script):
        self.script = script
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / script), "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_line()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", first or "")
        if m is None:
            self.kill()
            raise RuntimeError(f"{script}: expected a `listening on` line, got {first!r}\n{self.log()}")
        self.port = int(m.group(1))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # EOF

    def next_line(self):
        """The next stdout line; None at EOF or after LINE_LIMIT seconds."""
        try:
            return self.lines.get(timeout=LINE_LIMIT)
        except queue.Empty:
            return None

    def take(self, n):
        """The next n stdout lines (fewer at EOF or on a time-out)."""
        got = []
        while len(got) < n:
            line = self.next_line()
            if line is None:
                break
            got.append(line)
        return got

    def close(self):
        """Closes stdin; (exit status, the stdout lines that came after)."""
        self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=LINE_LIMIT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, []
        rest = []
        while (line := self.next_line()) is not None:
            rest.append(line)
        return code, rest

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read()


def run_client(script, *args):
    """(exit status, stdout, stderr) of a client run; status None if it hung."""
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / script), *map(str, args)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CLIENT_LIMIT,
        )
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or "", e.stderr or ""
    return done.returncode, done.stdout, done.stderr


def server_checks(c, script, body):
    """Runs body(server, c) against a fresh `script`, then checks that it stops cleanly."""
    try:
        server = Server(script)
    except Exception as e:
        c.check(False, f"{script}: could not start: {e}")
        return
    failures = len(c.failures)
    try:
        body(server, c)
        code, rest = server.close()
        c.check(code == 0, f"{script}: exit status {code} after stdin closed")
        c.check(rest == [], f"{script}: unexpected lines at the end: {rest}")
    finally:
        server.kill()
        if len(c.failures) > failures:
            sys.stderr.write(f"--- {script} stderr:\n{server.log()}--- end of {script} stderr\n")


LOGIN_LINES = [
    "logged in as alice",
    "whoami -> 'alice'",
    "echo -> 'hello'",
    "callMeBack -> 'hello, there'",
]
# Twisted's UnauthorizedLogin has an empty message.
UNAUTHORIZED_LINE = "UnauthorizedLogin: "


def login_checks(server, c):
    code, out, err = run_client("login_client.py", server.port)
    c.check(code == 0, f"login_client.py: exit status {code}; stderr {err!r}")
    c.check(out.splitlines() == LOGIN_LINES, f"login_client.py: output {out!r}")
    lines = server.take(2)
    c.check(lines == ["login alice", "logout alice"], f"login_server.py: lines {lines}")

    for user, password in (("alice", "wrong"), ("nobody", "wonderland")):
        code, out, err = run_client("login_client.py", server.port, user, password)
        c.check(code == 1, f"login_client.py {user} {password}: exit status {code}; stderr {err!r}")
        c.check(out == UNAUTHORIZED_LINE + "\n", f"login_client.py {user} {password}: output {out!r}")

    # TLS is a later step: both programs refuse --tls for now.
    code, out, err = run_client("login_client.py", server.port, "--tls", "ca.pem")
    c.check(code == 2 and out == "" and "--tls" in err, f"login_client.py --tls: exit status {code}, output {out!r}")
    code, out, err = run_client("login_server.py", "0", "--tls", "cert.pem", "key.pem")
    c.check(code == 2 and out == "" and "--tls" in err, f"login_server.py --tls: exit status {code}, output {out!r}")


CRED_CHECKS = [
    "login",
    "echo",
    "callMeBack",
    "fail",
    "view",
    "board",
    "secondBoard",
    "post",
    "wrongPassword",
    "unknownUser",
    "anonymous",
    "disconnect",
]
CRED_SERVER_LINES = [
    "login alice",
    "login bob",
    "login anonymous",
    "stopped observing alice",
    "stopped observing bob",
    "logout alice",
    "logout bob",
    "logout anonymous",
]


def cred_checks(server, c):
    code, out, err = run_client("cred_client.py", server.port)
    want = [f"ok {name}" for name in CRED_CHECKS] + [f"{len(CRED_CHECKS)} passed, 0 failed"]
    c.check(code == 0, f"cred_client.py: exit status {code}; stderr {err!r}")
    c.check(out.splitlines() == want, f"cred_client.py: output {out!r}")
    # The logins come in order; the three connections close in any order, each
    # one's `stopped observing` before its `logout`.
    lines = server.take(len(CRED_SERVER_LINES))
    c.check(lines[:3] == CRED_SERVER_LINES[:3], f"cred_server.py: login lines {lines[:3]}")
    c.check(sorted(lines) == sorted(CRED_SERVER_LINES), f"cred_server.py: lines {lines}")
    for who in ("alice", "bob"):
        stopped, logout = f"stopped observing {who}", f"logout {who}"
        if stopped in lines and logout in lines:
            c.check(lines.index(stopped) < lines.index(logout), f"cred_server.py: {logout!r} before {stopped!r}")


def main():
    peer = Peer()
    c = Checker()
    try:
        vector_checks(peer, c)
        behaviour_checks(peer, c)
    finally:
        code, rest = peer.close()
    c.check(code == 0, f"peer exit status {code}")
    c.check(rest == "", f"peer wrote more than answers: {rest!r}")
    server_checks(c, "login_server.py", login_checks)
    server_checks(c, "cred_server.py", cred_checks)
    if c.failures:
        sys.stderr.write(f"selfcheck: {len(c.failures)} of {c.count} checks failed\n")
        sys.exit(1)
    print(f"selfcheck: all {c.count} checks passed")


if __name__ == "__main__":
    main()
