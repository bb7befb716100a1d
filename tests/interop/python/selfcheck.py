#!/usr/bin/env python3
"""Checks jelly_peer.py against the golden vectors; exits non-zero on a failure.

    target/interop-venv/bin/python tests/interop/python/selfcheck.py

Every `kind: value` vector of tests/vectors/twisted-vectors.json goes to the
peer twice, as Banana bytes ({"banana_pb": ...}) and as its typed value
({"typed": ...}); the answer's value and bytes must be the vector's, except
where Twisted's permissive unjelly gives another object than the one the
vector was made from (EXPECTED_DIFFERENT_BYTES, EXPECTED_ERROR below).  A few
more requests pin down the peer's error answers and the values that do not
survive a trip through Twisted unchanged.
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "jelly_peer.py"
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
    if c.failures:
        sys.stderr.write(f"selfcheck: {len(c.failures)} of {c.count} checks failed\n")
        sys.exit(1)
    print(f"selfcheck: all {c.count} checks passed")


if __name__ == "__main__":
    main()
