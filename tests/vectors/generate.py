#!/usr/bin/env python3
"""Regenerate tests/vectors/twisted-vectors.json from a real Twisted.

Usage (from the repository root, with the interop venv's interpreter):

    target/interop-venv/bin/python tests/vectors/generate.py > tests/vectors/twisted-vectors.json

The JSON document goes to stdout; diagnostics go to stderr.  The output is a
pure function of the installed Twisted: no addresses, clocks or random values
end up in it.  Every vector is produced by running real objects through
Twisted's own jelly, banana and pb code; nothing on the wire is computed by
this script.  See README.md in this directory for the output format.

The script checks its results against pb-vectors.json (same directory): the
vector names and order must match, and every Banana encoding must equal the
spec's hex.  A difference aborts, unless the vector is listed in
KNOWN_DIFFERENCES (a confirmed case where real Twisted disagrees with the
spec), in which case a warning naming both values is printed to stderr.
"""

import datetime
import decimal
import gc
import json
import math
import sys
import types
from pathlib import Path

EXPECTED_TWISTED = "26.10.0"

try:
    import twisted
except ImportError:
    sys.exit(
        "generate.py: Twisted is not importable; run this with the interop venv "
        "(target/interop-venv/bin/python, created by `cargo xtask`)"
    )

if twisted.__version__ != EXPECTED_TWISTED:
    sys.exit(
        f"generate.py: need Twisted {EXPECTED_TWISTED}, found {twisted.__version__} "
        f"at {twisted.__file__}"
    )

from twisted.internet import address  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import banana, jelly  # noqa: E402
from twisted.spread import pb  # noqa: E402  (registers PB's unjellyables)

# The typed JSON forms and the Banana helpers, shared with the interop peer.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "interop" / "python"))
from typed import (  # noqa: E402
    RecordingTransport,
    TypedError,
    Unrepresentable,
    banana_decode,
    banana_encode,
    typed_sexp,
    typed_value,
)

HERE = Path(__file__).resolve().parent
SPEC_VECTORS = HERE / "pb-vectors.json"

# Vectors where real Twisted's output is known (and was checked) to differ from
# pb-vectors.json.  name -> explanation.  Any other difference aborts.
KNOWN_DIFFERENCES = {}


class GenerationError(TypedError):
    pass


def fail(msg):
    sys.stderr.write(f"generate.py: ERROR: {msg}\n")
    sys.exit(1)


def warn(msg):
    sys.stderr.write(f"generate.py: WARNING: {msg}\n")


def exc_text(exc):
    return f"{qual(type(exc))}: {exc}"


# ---------------------------------------------------------------------------
# Example classes.  Their class paths are part of the vectors, so they live in
# modules with the right names: `copy_sender`, `cache_classes` (registered in
# sys.modules) and `__main__` (this script).


def _module(name):
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    return mod


def _place(mod, *classes):
    for cls in classes:
        cls.__module__ = mod.__name__
        setattr(mod, cls.__name__, cls)


copy_sender = _module("copy_sender")
cache_classes = _module("cache_classes")


class LilyPond:
    def setStuff(self, color, numFrogs):
        self.color = color
        self.numFrogs = numFrogs


class CopyPond(LilyPond, pb.Copyable):
    pass


_place(copy_sender, LilyPond, CopyPond)


class MasterDuckPond(pb.Cacheable):
    """Owner side: keeps its observers up to date with the duck list."""

    def __init__(self, ducks):
        self.observers = []
        self.ducks = ducks

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        return self.ducks

    def addDuck(self, duck):
        self.ducks.append(duck)
        return [o.callRemote("addDuck", duck) for o in self.observers]

    def removeDuck(self, duck):
        self.ducks.remove(duck)
        return [o.callRemote("removeDuck", duck) for o in self.observers]

    def stoppedObserving(self, perspective, observer):
        self.observers = [
            o
            for o in self.observers
            if not (o.broker is observer.broker and o.perspective is perspective)
        ]


class SlaveDuckPond(pb.RemoteCache):
    """Receiver side of MasterDuckPond."""

    def setCopyableState(self, state):
        self.cacheducks = state

    def observe_addDuck(self, duck):
        self.cacheducks.append(duck)

    def observe_removeDuck(self, duck):
        self.cacheducks.remove(duck)


_place(cache_classes, MasterDuckPond, SlaveDuckPond)


class PlainThing:
    """A plain class, jellied as __main__.PlainThing."""


class ReceiverPond(pb.RemoteCopy, LilyPond):
    """What a receiving broker builds for copy_sender.CopyPond."""


def capture():
    """A module-level function, jellied as ['function', '__main__.capture']."""


def _pin_to_main():
    # qual() must give __main__.X even if this file is imported under another name.
    main = sys.modules["__main__"]
    for obj in (PlainThing, ReceiverPond, capture):
        obj.__module__ = "__main__"
        setattr(main, obj.__name__, obj)


_receivers_registered = False


def register_receivers():
    """The receiving side's RemoteCopy/RemoteCache registrations (PB phase only)."""
    global _receivers_registered
    if not _receivers_registered:
        pb.setUnjellyableForClass(CopyPond, ReceiverPond)
        pb.setUnjellyableForClass(MasterDuckPond, SlaveDuckPond)
        _receivers_registered = True


# ---------------------------------------------------------------------------
# Jelly vectors: objects jellied by jelly.jelly() (no broker).


def _cyclic_list():
    l = []
    l.append(l)
    return l


def _cyclic_list_middle():
    l = [1]
    l.append(l)
    l.append(2)
    return l


def _shared_list_twice():
    s = [1, 2]
    return [s, s]


def _shared_dict_in_tuple():
    d = {"k": "v"}
    return (d, d, d)


def _tuple_cycle_via_list():
    a = []
    t = (a,)
    a.append(t)
    return t


def _two_shared_objects():
    a = [b"x"]
    b = [b"y"]
    return [a, b, a, b]


def _refids_by_second_occurrence():
    a = [1]
    b = [2]
    return [a, b, b, a]


def _same_str_twice():
    s = "shared"
    return [s, s]


def _shared_empty_dict():
    d = {}
    return {"x": d, "y": d}


def _pond():
    p = CopyPond()
    p.setStuff("green", 7)
    return p


def _pond_twice():
    p = _pond()
    return [p, p]


def _plain_thing():
    p = PlainThing()
    p.a = 1
    return p


# name -> (object factory, taster for jelly(); None = jelly()'s default DummySecurityOptions)
JELLY_CASES = {
    "int_zero": (lambda: 0, None),
    "int_one": (lambda: 1, None),
    "int_127": (lambda: 127, None),
    "int_128": (lambda: 128, None),
    "int_1015": (lambda: 1015, None),
    "int_max_INT_2**31-1": (lambda: 2**31 - 1, None),
    "int_2**31_first_LONGINT": (lambda: 2**31, None),
    "int_2**64": (lambda: 2**64, None),
    "int_neg_one": (lambda: -1, None),
    "int_neg_1015": (lambda: -1015, None),
    "int_-2**31_still_NEG": (lambda: -(2**31), None),
    "int_-2**31-1_first_LONGNEG": (lambda: -(2**31) - 1, None),
    "int_-2**100": (lambda: -(2**100), None),
    "int_2**448-1_largest_sendable": (lambda: 2**448 - 1, None),
    "int_2**448_too_large": (lambda: 2**448, None),
    "float_zero": (lambda: 0.0, None),
    "float_1.5": (lambda: 1.5, None),
    "float_neg_2.25": (lambda: -2.25, None),
    "float_pi": (lambda: math.pi, None),
    "float_1e100": (lambda: 1e100, None),
    "float_inf": (lambda: math.inf, None),
    "float_neg_zero": (lambda: -0.0, None),
    "float_nan": (lambda: math.nan, None),
    "bytes_hello": (lambda: b"hello", None),
    "bytes_empty": (lambda: b"", None),
    "bytes_equal_to_vocab_word_list": (lambda: b"list", None),
    "bytes_binary": (lambda: b"\x00%Jo\x94\xb9\xde", None),
    "str_ascii": (lambda: "hello", None),
    "str_empty": (lambda: "", None),
    "str_non_ascii": (lambda: "h\u00e9llo w\u00f6rld \u2603 \U0001f438", None),
    "str_equal_to_vocab_word": (lambda: "None", None),
    "None": (lambda: None, None),
    "True": (lambda: True, None),
    "False": (lambda: False, None),
    "list_ints": (lambda: [1, 2, 3], None),
    "list_empty": (lambda: [], None),
    "tuple_mixed": (lambda: (1, b"two", 3.0), None),
    "tuple_empty": (lambda: (), None),
    "dict_str_keys": (lambda: {"a": 1, "b": [1, 2]}, None),
    "dict_bytes_keys": (lambda: {b"x": 1, b"y": b"z"}, None),
    "dict_empty": (lambda: {}, None),
    "dict_tuple_key": (lambda: {(1, 2): "pair"}, None),
    "set_ints": (lambda: {1, 2, 3}, None),
    "frozenset_bytes": (lambda: frozenset({b"a"}), None),
    "nested": (lambda: [1, ("two", [3.0, {"four": (5, None)}]), [b"six", [True]]], None),
    "cyclic_list": (_cyclic_list, None),
    "cyclic_list_middle": (_cyclic_list_middle, None),
    "shared_list_twice": (_shared_list_twice, None),
    "shared_dict_in_tuple": (_shared_dict_in_tuple, None),
    "tuple_cycle_via_list": (_tuple_cycle_via_list, None),
    "two_shared_objects": (_two_shared_objects, None),
    "refids_numbered_by_second_occurrence": (_refids_by_second_occurrence, None),
    "empty_tuple_singleton_twice": (lambda: [(), ()], None),
    "same_str_twice_not_tracked": (_same_str_twice, None),
    "shared_empty_dict_as_values": (_shared_empty_dict, None),
    "datetime": (lambda: datetime.datetime(2020, 7, 11, 1, 16, 5, 344), None),
    "date": (lambda: datetime.date(2020, 7, 11), None),
    "time": (lambda: datetime.time(1, 16, 5, 344), None),
    "timedelta": (lambda: datetime.timedelta(days=8, seconds=4565, microseconds=344), None),
    "timedelta_negative": (lambda: datetime.timedelta(days=-1, seconds=86399), None),
    "decimal_9.95": (lambda: decimal.Decimal("9.95"), None),
    "decimal_-78.901": (lambda: decimal.Decimal("-78.901"), None),
    "decimal_zero": (lambda: decimal.Decimal("0"), None),
    "decimal_1.00": (lambda: decimal.Decimal("1.00"), None),
    "decimal_1E+2": (lambda: decimal.Decimal("1E+2"), None),
    "copyable_CopyPond": (_pond, None),
    "copyable_CopyPond_twice_in_list": (_pond_twice, None),
    # PB's brokers jelly with globalSecurity, which turns a disallowed instance
    # into an 'unpersistable' marker on the sending side.
    "plain_instance_via_pb": (_plain_thing, jelly.globalSecurity),
    "class_ref_jelly_only": (lambda: PlainThing, None),
    "function_ref": (lambda: capture, None),
    "module_ref": (lambda: datetime, None),
    "plain_instance_jelly_only": (_plain_thing, None),
}

EXTRA_NOTES = {
    "copyable_CopyPond": [
        "pb_security_error is what a receiver gets when it registered no RemoteCopy "
        "class for copy_sender.CopyPond."
    ],
    "copyable_CopyPond_twice_in_list": [
        "pb_security_error is what a receiver gets when it registered no RemoteCopy "
        "class for copy_sender.CopyPond."
    ],
}

PB_TOKENS = (
    "referenceable",
    "referenceable_again",
    "cacheable_first_send",
    "cacheable_second_send",
    "remotecache_sent_back_to_owner",
    "remotereference_sent_back_to_owner",
)


def pb_security_error(sexp):
    """What PB's default policy says about `sexp` (None when it is accepted)."""
    try:
        jelly.unjelly(sexp, taster=jelly.globalSecurity)
    except jelly.InsecureJelly as e:
        return exc_text(e)
    except Exception as e:  # anything else is not a policy decision
        raise GenerationError(f"globalSecurity unjelly raised {exc_text(e)}") from e
    return None


def jelly_vector(name, make, taster):
    obj = make()
    if taster is None:
        sexp = jelly.jelly(obj)
    else:
        sexp = jelly.jelly(obj, taster=taster)
    entry = {"sexp": typed_sexp(sexp), "_sexp_repr": repr(sexp)}
    notes = []
    try:
        wire_pb = banana_encode(sexp, b"pb")
    except banana.BananaError as e:
        try:
            banana_encode(sexp, b"none")
        except banana.BananaError as e2:
            if str(e2) != str(e):
                raise GenerationError(f"{name}: dialects disagree: {e} / {e2}")
        else:
            raise GenerationError(f"{name}: only the pb dialect refuses it")
        entry["kind"] = "unsendable"
        entry["banana_pb"] = None
        err = pb_security_error(sexp)
        if err is not None:
            entry["pb_security_error"] = err
        entry["banana_error"] = exc_text(e)
        return entry, notes

    wire_none = banana_encode(sexp, b"none")
    received = banana_decode(wire_pb, b"pb")
    if typed_sexp(received) != entry["sexp"] or typed_sexp(banana_decode(wire_none, b"none")) != entry["sexp"]:
        raise GenerationError(f"{name}: Banana does not decode its own encoding back")
    entry["kind"] = "value"
    entry["banana_pb"] = wire_pb.hex()
    entry["banana_none"] = wire_none.hex()
    value = jelly.unjelly(received)
    try:
        entry["value"], has_instance = typed_value(value)
        entry["_value_repr"] = None if has_instance else repr(value)
    except Unrepresentable as e:
        notes.append(
            f"No `value`: the permissive unjelly returns {value!r} itself, "
            "and the typed value form has no way to write it."
        )
    err = pb_security_error(received)
    if err is not None:
        entry["pb_security_error"] = err
    notes.extend(EXTRA_NOTES.get(name, []))
    return entry, notes


# ---------------------------------------------------------------------------
# PB tokens: jellied by a real Broker (Broker.serialize = jelly with
# globalSecurity and the broker as invoker), exactly as PB sends them.


def _broker(is_client=1):
    b = pb.Broker(isClient=is_client)
    b.makeConnection(RecordingTransport())
    return b


def pb_token_vectors():
    register_receivers()
    out = {}
    keep = []

    # Owner O1 sends a Referenceable; receiver R1 gets (remote 1).
    o1, r1 = _broker(0), _broker(1)
    ref = pb.Referenceable()
    out["referenceable"] = (o1.serialize(ref), [])
    out["referenceable_again"] = (
        o1.serialize([ref, ref]),
        ["Same broker as `referenceable`, so the luid is 1 again (its refcount goes up)."],
    )
    got = r1.unserialize(banana_decode(banana_encode(out["referenceable"][0], b"pb")))
    assert isinstance(got, pb.RemoteReference) and got.luid == 1, got
    back = r1.serialize(got)
    assert o1.unserialize(banana_decode(banana_encode(back, b"pb"))) is ref
    out["remotereference_sent_back_to_owner"] = (
        back,
        ["The receiver's RemoteReference for (remote 1), serialized by the receiver's broker."],
    )
    keep += [got]

    # Owner O2 sends a Cacheable twice; receiver R2 builds a SlaveDuckPond and sends it back.
    o2, r2 = _broker(0), _broker(1)
    master = MasterDuckPond(["one duck", "two duck"])
    first = o2.serialize(master)
    out["cacheable_first_send"] = (first, [])
    out["cacheable_second_send"] = (o2.serialize(master), [])
    slave = r2.unserialize(banana_decode(banana_encode(first, b"pb")))
    assert isinstance(slave, SlaveDuckPond) and slave.cacheducks == ["one duck", "two duck"], slave
    back = r2.serialize(slave)
    assert o2.unserialize(banana_decode(banana_encode(back, b"pb"))) is master
    out["remotecache_sent_back_to_owner"] = (
        back,
        ["The receiver's SlaveDuckPond (built from `cacheable_first_send`), serialized by the receiver's broker."],
    )
    keep += [slave]

    entries = {}
    for name in PB_TOKENS:
        sexp, notes = out[name]
        wire_pb = banana_encode(sexp, b"pb")
        wire_none = banana_encode(sexp, b"none")
        entries[name] = (
            {
                "kind": "pb_token",
                "sexp": typed_sexp(sexp),
                "banana_pb": wire_pb.hex(),
                "banana_none": wire_none.hex(),
                "_sexp_repr": repr(sexp),
            },
            notes,
        )
    return entries, keep


# ---------------------------------------------------------------------------
# PB frames: two in-process PB connections (real PBServerFactory /
# PBClientFactory brokers), bytes carried by hand between recording transports.


class Receiver(pb.Root):
    def __init__(self):
        self.ponds = []
        self.observer = None

    def remote_takePond(self, pond):
        assert isinstance(pond, ReceiverPond) and pond.__dict__ == {"color": "green", "numFrogs": 7}
        return "safe and sound"

    def remote_takeDuckPond(self, pond):
        self.ponds.append(pond)
        return len(pond.cacheducks)

    def remote_checkDucks(self):
        return list(self.ponds[0].cacheducks)

    def remote_ignorePond(self):
        del self.ponds[:]
        gc.collect()

    def remote_registerObserver(self, observer):
        self.observer = observer
        return "ack"

    def remote_dropObserver(self):
        self.observer = None
        gc.collect()
        return True

    def remote_getChildren(self):
        return [Child(), Child(), Child()]


class Child(pb.Referenceable):
    def remote_kw(self, a, b=None, c=None):
        return {"a": a, "b": b, "c": c}


class Observer(pb.Referenceable):
    pass


class Connection:
    def __init__(self, root):
        self.trace = []
        self.server_factory = pb.PBServerFactory(root)
        self.client_factory = pb.PBClientFactory()
        self.server = self.server_factory.buildProtocol(address.IPv4Address("TCP", "127.0.0.1", 2))
        self.client = self.client_factory.buildProtocol(address.IPv4Address("TCP", "127.0.0.1", 1))
        self.st = RecordingTransport("S->C", self.trace)
        self.ct = RecordingTransport("C->S", self.trace)
        self.server.makeConnection(self.st)
        self.client.makeConnection(self.ct)

    def mark(self):
        return len(self.trace)

    def since(self, mark, direction):
        return [data for (d, data) in self.trace[mark:] if d == direction]

    def to_client(self):
        data = self.st.take()
        if data:
            self.client.dataReceived(data)

    def to_server(self):
        data = self.ct.take()
        if data:
            self.server.dataReceived(data)

    def pump(self):
        while self.st.pending or self.ct.pending:
            self.to_client()
            self.to_server()

    def root(self):
        got = []
        self.client_factory.getRootObject().addCallback(got.append)
        assert len(got) == 1
        return got[0]


def _one(frames, what):
    if len(frames) != 1:
        raise GenerationError(f"expected one {what} frame, got {[f.hex() for f in frames]}")
    return frames[0]


def _call(ref, *args, **kw):
    results = []
    d = ref.callRemote(*args, **kw)
    d.addBoth(results.append)
    return results


def frame_vectors():
    register_receivers()
    frames = {}
    notes = {}

    # Connection 1: handshake, Copyable, Cacheable life cycle, reference drop.
    c = Connection(Receiver())
    frames["frame_dialect_offer_server_to_client"] = [_one(c.since(0, "S->C"), "dialect offer")]
    m = c.mark()
    c.to_client()
    frames["frame_dialect_choice_and_version_client_to_server"] = c.since(m, "C->S")
    m = c.mark()
    c.to_server()
    frames["frame_version"] = [_one(c.since(m, "S->C"), "server version")]
    c.pump()
    root = c.root()

    m = c.mark()
    res = _call(root, "takePond", _pond())  # request 1
    frames["frame_message_takePond_copyable"] = [_one(c.since(m, "C->S"), "takePond")]
    m = c.mark()
    c.to_server()
    frames["frame_answer_str"] = [_one(c.since(m, "S->C"), "takePond answer")]
    c.pump()
    assert res == ["safe and sound"], res

    master = MasterDuckPond(["one duck", "two duck"])
    res = _call(root, "takeDuckPond", master)  # request 2, cache luid 1
    c.pump()
    assert res == [2], res

    m = c.mark()
    master.addDuck("ugly duckling")  # request 3
    frames["frame_cachemessage_addDuck"] = [_one(c.since(m, "C->S"), "cachemessage")]
    c.pump()

    res = _call(root, "checkDucks")  # request 4
    c.pump()
    assert res == [["one duck", "two duck", "ugly duckling"]], res

    master.removeDuck("one duck")  # request 5, answered with None
    m = c.mark()
    c.to_server()
    frames["frame_answer_none"] = [_one(c.since(m, "S->C"), "answer to request 5")]
    c.pump()

    m = c.mark()
    res = _call(root, "ignorePond")  # request 6: the server drops its RemoteCache
    c.to_server()
    server_frames = c.since(m, "S->C")
    frames["frame_decache"] = [_one(server_frames[:-1], "decache")]
    m = c.mark()
    c.to_client()  # the owner stops observing and tells the receiver to uncache
    frames["frame_uncache"] = [_one(c.since(m, "C->S"), "uncache")]
    c.pump()
    assert res == [None] and master.observers == [], (res, master.observers)

    observer = Observer()
    res = _call(root, "registerObserver", observer)  # request 7, observer gets luid 2
    c.pump()
    assert res == ["ack"], res
    m = c.mark()
    res = _call(root, "dropObserver")  # request 8: the server drops its RemoteReference
    c.to_server()
    server_frames = c.since(m, "S->C")
    frames["frame_decref"] = [_one(server_frames[:-1], "decref")]
    c.pump()
    assert res == [True], res

    notes["frame_version"] = [
        "The server's frame, sent once the client chose a dialect; the client sends the same bytes."
    ]
    notes["frame_message_takePond_copyable"] = [
        "Client broker of an in-process PBClientFactory/PBServerFactory connection."
    ]
    notes["frame_cachemessage_addDuck"] = [
        "Request 1 was takePond, request 2 sent the MasterDuckPond (cache luid 1)."
    ]
    notes["frame_answer_none"] = [
        "The server's answer to the client's request 5 (cachemessage removeDuck)."
    ]
    notes["frame_decache"] = ["Sent when the server drops its SlaveDuckPond."]
    notes["frame_uncache"] = ["The owner's reply to (decache 1) once no reference is left."]
    notes["frame_decref"] = [
        "Sent when the server drops its RemoteReference to the client's luid 2 "
        "(luid 1 is the cache)."
    ]

    # Connection 2: a call on the third of three references returned by request 1.
    c2 = Connection(Receiver())
    c2.pump()
    root2 = c2.root()
    res = _call(root2, "getChildren")  # request 1 -> (remote 1) (remote 2) (remote 3)
    c2.pump()
    children = res[0]
    assert [r.luid for r in children] == [1, 2, 3], children
    m = c2.mark()
    res = _call(children[2], "kw", 1, b=b"two", c="three")  # request 2
    frames["frame_message_with_kwargs"] = [_one(c2.since(m, "C->S"), "kw")]
    c2.pump()
    assert res == [{"a": 1, "b": b"two", "c": "three"}], res
    notes["frame_message_with_kwargs"] = [
        "Request 1 was getChildren, answered with three references (luids 1, 2, 3)."
    ]

    entries = {}
    for name, wire in frames.items():
        decoded = [banana_decode(w, b"pb") for w in wire]
        if name == "frame_dialect_choice_and_version_client_to_server":
            entry = {
                "kind": "pb_frame_sequence",
                "sexps": [typed_sexp(s) for s in decoded],
                "_sexp_repr": " then ".join(repr(s) for s in decoded),
            }
        else:
            assert len(wire) == 1
            entry = {"kind": "pb_frame", "sexp": typed_sexp(decoded[0]), "_sexp_repr": repr(decoded[0])}
        entry["banana_pb"] = b"".join(wire).hex()
        entries[name] = (entry, notes.get(name, []))
    keep = [c, c2, master, observer, children, root, root2]
    return entries, keep


# ---------------------------------------------------------------------------


KEY_ORDER = (
    "name",
    "kind",
    "python_repr",
    "sexp",
    "sexps",
    "banana_pb",
    "banana_none",
    "value",
    "pb_security_error",
    "banana_error",
    "notes",
)


def check_against_spec(name, entry, spec, problems):
    def differ(what, ours, theirs):
        msg = f"{name}: {what}: Twisted gives {ours!r}, pb-vectors.json says {theirs!r}"
        if name in KNOWN_DIFFERENCES:
            warn(f"{msg} (known: {KNOWN_DIFFERENCES[name]})")
        else:
            problems.append(msg)

    if entry["banana_pb"] != spec.get("banana_hex"):
        differ("banana_pb", entry["banana_pb"], spec.get("banana_hex"))
    if "banana_none" in entry or "banana_hex_none_dialect" in spec:
        if entry.get("banana_none") != spec.get("banana_hex_none_dialect"):
            differ("banana_none", entry.get("banana_none"), spec.get("banana_hex_none_dialect"))
    if entry["_sexp_repr"] != spec.get("jelly_sexp"):
        differ("s-expression", entry["_sexp_repr"], spec.get("jelly_sexp"))
    if "banana_error" in entry or "banana_error" in spec:
        if entry.get("banana_error") != spec.get("banana_error"):
            differ("banana_error", entry.get("banana_error"), spec.get("banana_error"))
    if "unjelly_error_pb_security" in spec:
        if entry.get("pb_security_error") != spec["unjelly_error_pb_security"]:
            differ("pb_security_error", entry.get("pb_security_error"), spec["unjelly_error_pb_security"])
    if entry.get("_value_repr") is not None and "unjellied_repr" in spec:
        if entry["_value_repr"] != spec["unjellied_repr"]:
            differ("unjellied value", entry["_value_repr"], spec["unjellied_repr"])
    if "kind" in spec and spec["kind"] != entry["kind"]:
        differ("kind", entry["kind"], spec["kind"])


def main(argv):
    if len(argv) > 1:
        fail("usage: generate.py  (writes the JSON document to stdout)")
    _pin_to_main()
    try:
        spec_vectors = json.loads(SPEC_VECTORS.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        fail(f"cannot read {SPEC_VECTORS}: {e}")
    names = [v["name"] for v in spec_vectors]
    if len(names) != 89 or len(set(names)) != len(names):
        fail(f"{SPEC_VECTORS} should hold 89 uniquely named vectors, found {len(names)}")
    ours = set(JELLY_CASES) | set(PB_TOKENS)
    frame_names = {n for n in names if n.startswith("frame_")}
    if ours | frame_names != set(names) or ours & frame_names:
        fail(
            "vector names differ from pb-vectors.json: "
            f"missing {sorted(set(names) - ours - frame_names)}, extra {sorted(ours - set(names))}"
        )

    results = {}
    try:
        # Phase 1: plain jelly, before any receiver registration exists, so the
        # permissive unjelly and globalSecurity see Twisted's defaults.
        for name, (make, taster) in JELLY_CASES.items():
            results[name] = jelly_vector(name, make, taster)
        # Phase 2: brokers.
        tokens, keep_tokens = pb_token_vectors()
        results.update(tokens)
        frames, keep_frames = frame_vectors()
        results.update(frames)
    except (TypedError, AssertionError) as e:
        fail(f"{type(e).__name__}: {e}")
    if set(results) != set(names):
        fail(f"not produced: {sorted(set(names) - set(results))}")

    problems = []
    vectors = []
    for spec in spec_vectors:
        name = spec["name"]
        entry, notes = results[name]
        check_against_spec(name, entry, spec, problems)
        entry = dict(entry)
        entry["name"] = name
        entry["python_repr"] = spec["python_repr"]
        all_notes = ([spec["notes"]] if spec.get("notes") else []) + list(notes)
        if all_notes:
            entry["notes"] = " ".join(n if n.endswith(".") else n + "." for n in all_notes)
        vectors.append({k: entry[k] for k in KEY_ORDER if k in entry})
    if problems:
        fail(
            "real Twisted disagrees with pb-vectors.json (add the vector to "
            "KNOWN_DIFFERENCES only after checking that Twisted is right):\n  "
            + "\n  ".join(problems)
        )

    doc = {"twisted_version": twisted.__version__, "vectors": vectors}
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()
    # Keep broker-side objects alive until the document is written.
    del keep_tokens, keep_frames


if __name__ == "__main__":
    main(sys.argv)
