#!/usr/bin/env python3
"""The scenario Perspective Broker client on real Twisted, for the Rust interop tests.

    pb_client.py [PORT] [--shutdown]

Connects to 127.0.0.1:PORT (default 8800), where a server implementing the
methods of pb_server.py listens (the Rust scenario server, or pb_server.py
itself), and runs the scenarios below one after another.  Each prints one
line on stdout, `ok NAME` or `FAIL NAME: detail`; vectors that cannot be
tried are listed on one `skip NAME ...` line; the last line is
`N passed, M failed`.  The exit status is 0 iff nothing failed.  The whole
run gives up after 60 seconds (what is left counts as failed).

With --shutdown, after the scenarios the client connects once more and
calls shutdown() on the server (not a scenario; a problem there only goes to
stderr).

Self-test against Twisted's own server (run from the repository root); every
scenario passes:

    target/interop-venv/bin/python tests/interop/python/pb_server.py 0 > /tmp/pb_server.out 2> /tmp/pb_server.err &
    sleep 1; PORT=$(sed -n 's/^listening on 127.0.0.1://p' /tmp/pb_server.out)
    target/interop-venv/bin/python tests/interop/python/pb_client.py "$PORT" --shutdown; echo "exit $?"
    wait

Scenarios:

    echo:<vector>   every `kind: value` vector of tests/vectors/twisted-vectors.json
                    with a `value`: build it, echo it, compare typed forms.  Vectors
                    with a `pb_security_error` hold instances of classes the server
                    has not registered: they are sent in their wire form (as
                    copyables with the vector's class name) and must fail with
                    exactly that error.  An unpersistable marker is sent as an
                    instance of a plain class of the named class, which the
                    sending policy turns into the same marker; Twisted's server
                    echoes the Unpersistable it got as an instance of the
                    (insecure) class twisted.spread.jelly.Unpersistable, and a
                    server that sends the marker back unchanged is accepted too.
    add, kw, fail, failExpected, unknownMethod, callBack, returnIt, child,
    fireAndForget, refcount, disconnect (last: it ends the connection).
"""

import gc
import json
import re
import sys
import time
from pathlib import Path

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "pb_client.py"
TIME_LIMIT = 60.0
DISCONNECT_LIMIT = 5.0

peers.require_twisted(PROGRAM)

from peers import answer, call, expect, failure_text, failure_type, run_one, say, show  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import pb  # noqa: E402

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent.parent / "vectors" / "twisted-vectors.json"
from typed import TypedError, ValueBuilder, typed_value  # noqa: E402

# What Twisted's jelly sends for a jelly.Unpersistable object under PB's policy.
TWISTED_RESENT_UNPERSISTABLE = "instance of class twisted.spread.jelly.Unpersistable deemed insecure"
INSECURE_INSTANCE = re.compile(r"instance of class (\S+) deemed insecure\Z")


# ---------------------------------------------------------------------------
# Echo vectors: typed values -> objects to send.


class WireInstance(pb.Copyable):
    """Sends [name, state] for a class this process does not have."""

    def __init__(self, name):
        self.wire_name = name
        self.wire_state = None

    def getTypeToCopy(self):
        return self.wire_name.encode("utf-8")

    def getStateToCopy(self):
        return self.wire_state


_plain_classes = {}


def plain_class(name):
    """A plain class whose qualified name is `name` (module.Class)."""
    if name not in _plain_classes:
        module, _, cls_name = name.rpartition(".")
        if not module or not cls_name:
            raise TypedError(f"not a qualified class name: {name!r}")
        cls = type(cls_name, (), {})
        cls.__module__ = module
        cls.__qualname__ = cls_name
        _plain_classes[name] = cls
    return _plain_classes[name]


class SendBuilder(ValueBuilder):
    """Builds what to send for a typed value.

    Instances become WireInstance copyables (their wire form is unchanged);
    an `instance of class X deemed insecure` marker becomes an instance of a
    plain class X, which PB's sending policy turns into that very marker.
    """

    def __init__(self):
        super().__init__()
        self.substituted = False

    def _value(self, j):
        if isinstance(j, dict) and "unpersistable" in j and "ref" not in j:
            reason = j["unpersistable"]
            m = INSECURE_INSTANCE.match(reason) if isinstance(reason, str) else None
            if m is None:
                raise TypedError(f"cannot make PB send the unpersistable reason {reason!r}")
            obj = plain_class(m.group(1))()
            self._register(j.get("id"), obj)
            self.substituted = True
            return obj
        return super()._value(j)

    def _instance(self, ident, name, state_json):
        if not isinstance(name, str):
            raise TypedError(f"instance wants a class name, got {name!r}")
        obj = WireInstance(name)
        self._register(ident, obj)
        state = self._value(state_json)
        if not isinstance(state, (dict, list, tuple, type(None), int, float, str, bytes)):
            raise TypedError(f"unsupported state for {name}: {state!r}")
        obj.wire_state = state
        self.substituted = True
        return obj


def normalised(typed):
    """Typed form with set/frozenset elements in a canonical order."""
    if isinstance(typed, list):
        return [normalised(e) for e in typed]
    if isinstance(typed, dict):
        out = {k: normalised(v) for k, v in typed.items()}
        for kind in ("set", "frozenset"):
            if kind in out and isinstance(out[kind], list):
                out[kind] = sorted(out[kind], key=lambda e: json.dumps(e, sort_keys=True))
        return out
    return typed


def resent_unpersistables(typed):
    """The typed form with every unpersistable reason as Twisted re-sends it."""
    if isinstance(typed, list):
        return [resent_unpersistables(e) for e in typed]
    if isinstance(typed, dict):
        out = {k: resent_unpersistables(v) for k, v in typed.items()}
        if "unpersistable" in out:
            out["unpersistable"] = TWISTED_RESENT_UNPERSISTABLE
        return out
    return typed


def load_echo_cases():
    """[(name, object to send, accepted typed results or None, expected error or None)], skipped."""
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    cases, skipped = [], []
    for v in data["vectors"]:
        if v.get("kind") != "value":
            continue
        name = v["name"]
        if "value" not in v:
            skipped.append(name)
            continue
        try:
            builder = SendBuilder()
            sent = builder.build(v["value"])
            error = v.get("pb_security_error")
            if error is not None:
                cases.append((name, sent, None, error))
                continue
            if builder.substituted:
                expected = normalised(v["value"])
                accepted = [expected, normalised(resent_unpersistables(v["value"]))]
            else:
                accepted = [normalised(typed_value(sent)[0])]
            cases.append((name, sent, accepted, None))
        except Exception as e:  # unbuildable, unhashable, no typed form: not counted
            sys.stderr.write(f"{PROGRAM}: skipping {name}: {qual(type(e))}: {e}\n")
            skipped.append(name)
    return cases, skipped


@defer.inlineCallbacks
def echo_case(root, sent, accepted, error):
    ok, got = yield call(root, "echo", sent)
    if error is not None:
        expect(not ok, f"expected error {error!r}, got an answer")
        expect(failure_text(got) == error, f"expected error {error!r}, got {failure_text(got)!r}")
        return
    expect(ok, f"echo failed: {failure_text(got) if not ok else ''}")
    typed = normalised(typed_value(got)[0])
    expect(typed in accepted, f"sent {json.dumps(accepted[0])} got {json.dumps(typed)}")


# ---------------------------------------------------------------------------
# The other scenarios.


class Notified(pb.Referenceable):
    def __init__(self):
        self.seen = []

    def remote_notify(self, v):
        self.seen.append(v)
        return "got " + v


@defer.inlineCallbacks
def s_add(root):
    got = yield answer(root, "add", 2, 3)
    expect(got == 5 and type(got) is int, f"add(2, 3) gave {got!r}")


@defer.inlineCallbacks
def s_kw(root):
    got = yield answer(root, "kw", 1, c="three")
    want = {"a": 1, "b": None, "c": "three"}
    expect(got == want, f"kw(1, c='three') gave {got!r}, want {want!r}")


@defer.inlineCallbacks
def expect_remote_error(root, name, *args):
    ok, got = yield call(root, name, *args)
    expect(not ok, f"{name}{args!r} answered {show(got)}")
    expect(isinstance(got, pb.CopiedFailure), f"not a remote failure: {failure_text(got)}")
    return [got]  # (a Failure returned bare would errback this Deferred)


@defer.inlineCallbacks
def s_fail(root):
    [f] = yield expect_remote_error(root, "fail", "boom")
    expect(failure_type(f) == "builtins.ValueError", f"type {f.type!r}")
    expect(isinstance(f.type, bytes), f"type not bytes: {f.type!r}")
    expect("boom" in f.value, f"value {f.value!r}")
    expect(f.check(ValueError) is ValueError, f"check(ValueError) failed; parents {f.parents!r}")


@defer.inlineCallbacks
def s_fail_expected(root):
    [f] = yield expect_remote_error(root, "failExpected", "expected failure")
    expect(f.value == "expected failure", f"value {f.value!r} ({failure_type(f)})")


@defer.inlineCallbacks
def s_traceback(root):
    # The server sends tracebacks (unsafeTracebacks): the text arrives whole.
    [f] = yield expect_remote_error(root, "failWithTraceback")
    expect(failure_type(f) == "builtins.ValueError", f"type {f.type!r}")
    expect(f.unsafeTracebacks is True, f"unsafeTracebacks {f.unsafeTracebacks!r}")
    expect("failWithTraceback" in f.traceback, f"traceback {f.traceback!r}")


@defer.inlineCallbacks
def s_unknown_method(root):
    [f] = yield expect_remote_error(root, "noSuchMethod")
    expect(failure_type(f) == "twisted.spread.flavors.NoSuchMethod", f"got {failure_text(f)!r}")
    expect("noSuchMethod" in f.value, f"value {f.value!r}")


@defer.inlineCallbacks
def s_callback(root):
    n = Notified()
    got = yield answer(root, "callBack", n, "hi")
    expect(got == "got hi", f"callBack gave {got!r}")
    expect(n.seen == ["hi"], f"notify saw {n.seen!r}")


@defer.inlineCallbacks
def s_return_it(root):
    # While the server keeps a reference, ["local", luid] comes back as the object.
    broker = root.broker
    # Decrefs for what earlier scenarios sent follow their answers: one round
    # trip reads them before the table is counted.
    yield answer(root, "tableSize")
    t0 = len(broker.localObjects)
    mine = Notified()
    n = yield answer(root, "keep", mine)
    expect(n == 1, f"keep answered {n!r}")
    got = yield answer(root, "returnIt", mine)
    expect(got is mine, f"returnIt gave {got!r}, not the object sent")
    got = yield answer(root, "dropKept")
    expect(got is True, f"dropKept gave {got!r}")
    # Without another reference, Twisted's server frees its RemoteReference (and
    # sends the decref) before it sends the answer: the luid is gone when
    # ["local", luid] arrives, and the answer is None.  A server answering first
    # gives the object back; both are accepted.
    other = Notified()
    got = yield answer(root, "returnIt", other)
    expect(got is other or got is None, f"returnIt (not kept) gave {got!r}")
    sys.stderr.write(f"{PROGRAM}: returnIt (not kept) gave {'the object' if got is other else 'None'}\n")
    del got
    # The server's decref follows its answer; one more round trip has it read.
    yield answer(root, "tableSize")
    t1 = len(broker.localObjects)
    expect(t1 == t0, f"our table {t0} -> {t1} after the server dropped everything")


@defer.inlineCallbacks
def s_child(root):
    child = yield answer(root, "makeChild")
    expect(isinstance(child, pb.RemoteReference), f"makeChild gave {child!r}")
    got = yield answer(child, "ping", 7)
    expect(got == ["pong", 7], f"ping(7) gave {got!r}")


@defer.inlineCallbacks
def s_fire_and_forget(root):
    d = root.callRemote("record", 42, pbanswer=False)
    expect(d is None, f"callRemote(..., pbanswer=False) returned {d!r}, not None")
    got = yield answer(root, "recorded")
    expect(isinstance(got, list) and 42 in got, f"recorded() gave {got!r}")


@defer.inlineCallbacks
def s_refcount(root):
    broker = root.broker
    yield answer(root, "tableSize")  # earlier decrefs read, as in s_return_it
    t0 = len(broker.localObjects)
    objs = [Notified(), Notified(), Notified()]
    for i, o in enumerate(objs + [objs[0]]):
        n = yield answer(root, "keep", o)
        expect(n == i + 1, f"keep #{i + 1} answered {n!r}")
    t1 = len(broker.localObjects)
    expect(t1 == t0 + 3, f"our table went {t0} -> {t1} for 3 objects kept")
    first = broker.localObjects[broker.luids[objs[0].processUniqueID()]]
    expect(first.refcount == 2, f"object sent twice has refcount {first.refcount}")
    got = yield answer(root, "dropKept")
    expect(got is True, f"dropKept gave {got!r}")
    # Decrefs sent while dropKept ran are read before the next answer is.
    yield answer(root, "tableSize")
    t2 = len(broker.localObjects)
    expect(t2 == t0, f"our table {t0} -> {t1} -> {t2} after dropKept (decrefs missing?)")

    s0 = yield answer(root, "tableSize")
    c1 = yield answer(root, "makeChild")
    c2 = yield answer(root, "makeChild")
    s1 = yield answer(root, "tableSize")
    expect(s1 == s0 + 2, f"server table {s0} -> {s1} for 2 children")
    del c1, c2
    gc.collect()
    # The Deferreds that delivered the children let go of them when this
    # generator next yields, and their decrefs go out then: the second call
    # below is sent after them.
    yield answer(root, "tableSize")
    s2 = yield answer(root, "tableSize")
    expect(s2 == s0, f"server table {s0} -> {s1} -> {s2} after dropping the children")


@defer.inlineCallbacks
def s_disconnect(root):
    start = time.monotonic()
    d1 = call(root, "hang", limit=DISCONNECT_LIMIT)
    d2 = call(root, "hangUp", limit=DISCONNECT_LIMIT)
    (ok1, r1), (ok2, r2) = yield defer.gatherResults([d1, d2])
    took = time.monotonic() - start
    for what, ok, r in (("hang", ok1, r1), ("hangUp", ok2, r2)):
        expect(not ok, f"{what}() answered {show(r)}")
        expect(r.check(pb.PBConnectionLost), f"{what}() failed with {failure_text(r)}")
    expect(took < DISCONNECT_LIMIT, f"took {took:.2f} s")
    ok3, r3 = yield call(root, "echo", 1)
    expect(not ok3, f"echo after the disconnect answered {show(r3)}")
    expect(r3.check(pb.DeadReferenceError), f"echo after the disconnect: {failure_text(r3)}")


SCENARIOS = [
    ("add", s_add),
    ("kw", s_kw),
    ("fail", s_fail),
    ("failExpected", s_fail_expected),
    ("traceback", s_traceback),
    ("unknownMethod", s_unknown_method),
    ("callBack", s_callback),
    ("returnIt", s_return_it),
    ("child", s_child),
    ("fireAndForget", s_fire_and_forget),
    ("refcount", s_refcount),
    ("disconnect", s_disconnect),
]


# ---------------------------------------------------------------------------


@defer.inlineCallbacks
def connect(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    root = yield factory.getRootObject()
    return factory, root


@defer.inlineCallbacks
def run(tally, port, shutdown):
    cases, skipped = load_echo_cases()
    try:
        factory, root = yield connect(port)
    except Exception as e:
        tally.fail("connect", f"{qual(type(e))}: {e}")
        return
    for name, sent, accepted, error in cases:
        yield run_one(tally, f"echo:{name}", echo_case, root, sent, accepted, error)
    if skipped:
        say("skip " + " ".join(skipped))
    for name, fn in SCENARIOS:
        yield run_one(tally, name, fn, root)
    factory.disconnect()
    del root

    if shutdown:
        try:
            factory, root = yield connect(port)
            ok, got = yield call(root, "shutdown")
            if not ok:
                sys.stderr.write(f"{PROGRAM}: shutdown() failed: {failure_text(got)}\n")
            factory.disconnect()
        except Exception as e:
            sys.stderr.write(f"{PROGRAM}: could not call shutdown(): {qual(type(e))}: {e}\n")


def main(argv):
    args = [a for a in argv[1:] if a != "--shutdown"]
    port = int(args[0]) if args else peers.DEFAULT_PORT
    return peers.run_checks(lambda tally: run(tally, port, "--shutdown" in argv[1:]), TIME_LIMIT)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
