"""The typed JSON forms of tests/vectors/README.md, and Banana through Twisted.

Shared by tests/vectors/generate.py (which writes the golden vectors) and
jelly_peer.py (the Python peer of the Rust interop tests):

- typed_sexp(): a jelly s-expression -> its typed s-expression form;
- typed_value(): a Python object graph -> its typed value form, with "id" and
  "ref" marks where an object is shared or cyclic;
- python_value(): the reverse, a typed value -> a Python object graph;
- banana_encode() / banana_decode(): bytes through Twisted's own Banana
  protocol class, in a chosen dialect.

Importing this module needs Twisted; checking its version is the caller's job.
"""

import ast
import datetime
import decimal
import struct
import types

from twisted.internet import address
from twisted.python.reflect import namedObject, qual
from twisted.spread import banana, jelly

__all__ = [
    "TypedError",
    "Unrepresentable",
    "RecordingTransport",
    "banana_encode",
    "banana_decode_frames",
    "banana_decode",
    "typed_float",
    "typed_bytes",
    "typed_sexp",
    "ValueConverter",
    "typed_value",
    "ValueBuilder",
    "python_value",
]


class TypedError(Exception):
    """Something has no typed form, or a typed form makes no sense."""


class Unrepresentable(TypedError):
    """A Python object the typed value form cannot write."""


# ---------------------------------------------------------------------------
# Banana through Twisted's own protocol class.


class RecordingTransport:
    """A transport that keeps every write; `pending` is what the peer has not read."""

    def __init__(self, label="", trace=None):
        self.label = label
        self.trace = trace if trace is not None else []
        self.pending = []
        self.lost = False

    def write(self, data):
        self.trace.append((self.label, data))
        self.pending.append(data)

    def writeSequence(self, seq):
        self.write(b"".join(seq))

    def loseConnection(self):
        self.lost = True

    def getPeer(self):
        return address.IPv4Address("TCP", "127.0.0.1", 2)

    def getHost(self):
        return address.IPv4Address("TCP", "127.0.0.1", 1)

    def registerProducer(self, producer, streaming):
        pass

    def unregisterProducer(self):
        pass

    def take(self):
        data = b"".join(self.pending)
        self.pending.clear()
        return data


def _banana(dialect):
    proto = banana.Banana(isClient=1)
    proto.makeConnection(RecordingTransport())
    proto._selectDialect(dialect)
    return proto


def banana_encode(sexp, dialect):
    """Bytes Twisted's Banana sends for `sexp`, or raises BananaError."""
    proto = _banana(dialect)
    proto.sendEncoded(sexp)
    return proto.transport.take()


def banana_decode_frames(data, dialect=b"pb"):
    """Every top-level expression Twisted's Banana decodes from `data`."""
    proto = _banana(dialect)
    got = []
    proto.expressionReceived = got.append
    proto.dataReceived(data)
    if proto.listStack or proto.buffer:
        raise TypedError(f"incomplete banana data {data.hex()}")
    return got


def banana_decode(data, dialect=b"pb"):
    got = banana_decode_frames(data, dialect)
    if len(got) != 1:
        raise TypedError(f"expected one expression in {data.hex()}, got {len(got)}")
    return got[0]


# ---------------------------------------------------------------------------
# Python -> typed forms.


def typed_float(f):
    return {"float": struct.pack(">d", f).hex()}


def typed_bytes(b):
    if all(0x20 <= c <= 0x7E for c in b):
        return {"bytes": b.decode("ascii")}
    return {"hex": b.hex()}


def typed_sexp(x):
    t = type(x)
    if t is list or t is tuple:
        return [typed_sexp(e) for e in x]
    if t is int:
        return {"int": str(x)}
    if t is float:
        return typed_float(x)
    if t is bytes:
        return typed_bytes(x)
    if t is str:
        return {"native_str": x}
    raise TypedError(f"unexpected {t.__name__} in an s-expression: {x!r}")


_CONTAINERS = (list, tuple, set, frozenset, dict)
_SCALARS = (
    type(None),
    bool,
    int,
    float,
    bytes,
    str,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
)
# Jelly writes these by name (class, function, module, method), never as an instance.
_BY_NAME = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    types.ModuleType,
)


def _is_instance(o):
    t = type(o)
    if t in _CONTAINERS or t in _SCALARS:
        return False
    if isinstance(o, _BY_NAME):
        return False
    return True


def _tracked(o):
    return type(o) in _CONTAINERS or _is_instance(o)


def _sent_reason(u):
    """The unpersistable reason as it was on the wire (Twisted keeps its repr)."""
    prefix = "Unpersistable data: "
    reason = u.reason
    # Twisted's answer to ["persistent", id] when no callback was given: the
    # reason is Twisted's own text, nothing was sent.
    if reason == "Persistent callback not found":
        return reason
    if not isinstance(reason, str) or not reason.startswith(prefix):
        raise Unrepresentable(f"unexpected Unpersistable reason {reason!r}")
    try:
        sent = ast.literal_eval(reason[len(prefix):])
    except (ValueError, SyntaxError) as e:
        raise Unrepresentable(f"unexpected Unpersistable reason {reason!r}") from e
    if isinstance(sent, bytes):
        sent = sent.decode("utf-8")
    if not isinstance(sent, str):
        raise Unrepresentable(f"Unpersistable reason that was not a byte string: {reason!r}")
    return sent


class ValueConverter:
    """Python object graph -> typed value form, with shared/cyclic identity marks.

    An instance's state is what jelly sends for it: `__getstate__()` (which
    every object has since Python 3.11, and which gives None for an empty
    `__dict__`), else its `__dict__`.
    """

    def __init__(self, root):
        self.root = root
        self.seen = {}
        self.keep = []
        self.states = {}
        self.ids = {}
        self.has_instance = False
        self._count(root)

    def _state(self, o):
        # Computed once per instance: __getstate__ may build a new object each time.
        k = id(o)
        if k not in self.states:
            if hasattr(o, "__getstate__"):
                self.states[k] = o.__getstate__()
            else:
                self.states[k] = vars(o)
        return self.states[k]

    def _children(self, o):
        t = type(o)
        if t is dict:
            for k, v in o.items():
                yield k
                yield v
        elif t in _CONTAINERS:
            yield from o
        elif isinstance(o, jelly.Unpersistable):
            return
        else:
            yield self._state(o)

    def _count(self, o):
        if not _tracked(o):
            return
        k = id(o)
        if k in self.seen:
            self.seen[k] += 1
            return
        self.seen[k] = 1
        self.keep.append(o)
        for c in self._children(o):
            self._count(c)

    def convert(self):
        return self._conv(self.root)

    def _conv(self, o):
        t = type(o)
        if o is None:
            return None
        if t is bool:
            return o
        if t is int:
            return {"int": str(o)}
        if t is float:
            return typed_float(o)
        if t is bytes:
            return typed_bytes(o)
        if t is str:
            return {"str": o}
        if t is datetime.datetime:
            if o.tzinfo is not None:
                raise Unrepresentable("aware datetime")
            return {"datetime": [o.year, o.month, o.day, o.hour, o.minute, o.second, o.microsecond]}
        if t is datetime.date:
            return {"date": [o.year, o.month, o.day]}
        if t is datetime.time:
            if o.tzinfo is not None:
                raise Unrepresentable("aware time")
            return {"time": [o.hour, o.minute, o.second, o.microsecond]}
        if t is datetime.timedelta:
            return {"timedelta": [o.days, o.seconds, o.microseconds]}
        if t is decimal.Decimal:
            sign, digits, exponent = o.as_tuple()
            if not isinstance(exponent, int):
                raise Unrepresentable(f"special Decimal {o!r}")
            coefficient = int("".join(map(str, digits)))
            return {"decimal": [("-" if sign else "") + str(coefficient), exponent]}
        if not _tracked(o):
            raise Unrepresentable(f"no typed value form for {t.__module__}.{t.__qualname__}: {o!r}")

        k = id(o)
        out = {}
        if self.seen[k] > 1:
            if k in self.ids:
                return {"ref": self.ids[k]}
            self.ids[k] = len(self.ids) + 1
            out["id"] = self.ids[k]
        if t is list:
            out["list"] = [self._conv(e) for e in o]
        elif t is tuple:
            out["tuple"] = [self._conv(e) for e in o]
        elif t is set:
            out["set"] = [self._conv(e) for e in o]
        elif t is frozenset:
            out["frozenset"] = [self._conv(e) for e in o]
        elif t is dict:
            out["dict"] = [[self._conv(k2), self._conv(v)] for k2, v in o.items()]
        elif isinstance(o, jelly.Unpersistable):
            self.has_instance = True
            out["unpersistable"] = _sent_reason(o)
        else:
            self.has_instance = True
            out["instance"] = qual(t)
            out["state"] = self._conv(self._state(o))
        return out


def typed_value(o):
    """(typed value of `o`, whether it holds an instance or an Unpersistable)."""
    conv = ValueConverter(o)
    return conv.convert(), conv.has_instance


# ---------------------------------------------------------------------------
# Typed value -> Python.


class _Pending:
    """A tuple or frozenset that is needed before it can be built.

    A reference to a tuple (or frozenset) from inside itself, through a list,
    dict or instance, is met while that tuple's elements are still being
    built.  The reference gets a _Pending; the mutable slot that receives it
    waits, and is filled once the tuple exists.  A tuple or frozenset with a
    pending element is itself pending until that element is resolved.
    """

    def __init__(self, builder, what):
        self.what = what
        self.waiters = []
        self.done = False
        builder.pending.append(self)

    def then(self, fn):
        self.waiters.append(fn)

    def resolve(self, obj):
        self.done = True
        waiters, self.waiters = self.waiters, []
        for fn in waiters:
            fn(obj)


_SCALAR_KINDS = (
    "int",
    "float",
    "bytes",
    "hex",
    "str",
    "datetime",
    "date",
    "time",
    "timedelta",
    "decimal",
)


def _ints(kind, payload, n):
    if (
        not isinstance(payload, list)
        or len(payload) != n
        or not all(type(i) is int for i in payload)
    ):
        raise TypedError(f"{kind} wants {n} integers, got {payload!r}")
    return payload


def _text(kind, payload):
    if not isinstance(payload, str):
        raise TypedError(f"{kind} wants a string, got {payload!r}")
    return payload


def _scalar(kind, payload):
    if kind == "int":
        return int(_text(kind, payload))
    if kind == "float":
        text = _text(kind, payload)
        if len(text) != 16:
            raise TypedError(f"float wants 16 hex digits, got {text!r}")
        return struct.unpack(">d", bytes.fromhex(text))[0]
    if kind == "bytes":
        return _text(kind, payload).encode("utf-8")
    if kind == "hex":
        return bytes.fromhex(_text(kind, payload))
    if kind == "str":
        return _text(kind, payload)
    if kind == "datetime":
        return datetime.datetime(*_ints(kind, payload, 7))
    if kind == "date":
        return datetime.date(*_ints(kind, payload, 3))
    if kind == "time":
        return datetime.time(*_ints(kind, payload, 4))
    if kind == "timedelta":
        days, seconds, microseconds = _ints(kind, payload, 3)
        return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if kind == "decimal":
        if not isinstance(payload, list) or len(payload) != 2 or type(payload[1]) is not int:
            raise TypedError(f"decimal wants [coefficient, exponent], got {payload!r}")
        text = _text(kind, payload[0])
        coefficient = int(text)
        sign = 1 if text.strip().startswith("-") else 0
        digits = tuple(int(c) for c in str(abs(coefficient)))
        return decimal.Decimal((sign, digits, payload[1]))
    raise AssertionError(kind)


class ValueBuilder:
    """Typed value form -> Python object graph.

    Objects marked "id" are registered before their contents are built (lists,
    dicts, sets and instances are created empty and filled afterwards), so a
    "ref" inside an object's own contents is a cycle back to it.  A "ref" to an
    id not met yet is an error.
    """

    def __init__(self):
        self.ids = {}
        self.pending = []

    def build(self, typed):
        obj = self._value(typed)
        unresolved = [p.what for p in self.pending if not p.done]
        if isinstance(obj, _Pending) or unresolved:
            raise TypedError(
                "a cycle through tuples and frozensets alone cannot be built in Python "
                f"(unresolved: {', '.join(unresolved)})"
            )
        return obj

    def _register(self, ident, obj):
        if ident is not None:
            self.ids[ident] = obj

    def _value(self, j):
        if j is None or type(j) is bool:
            return j
        if not isinstance(j, dict):
            raise TypedError(f"not a typed value: {j!r}")
        if "ref" in j:
            if len(j) != 1:
                raise TypedError(f"a ref with other keys: {j!r}")
            n = j["ref"]
            if type(n) is not int or n not in self.ids:
                raise TypedError(f"ref to unknown id {n!r}")
            return self.ids[n]
        ident = j.get("id")
        if ident is not None:
            if type(ident) is not int:
                raise TypedError(f"id wants an integer, got {ident!r}")
            if ident in self.ids:
                raise TypedError(f"id {ident} given twice")
        kinds = [k for k in j if k not in ("id", "state")]
        if len(kinds) != 1:
            raise TypedError(f"expected one kind in {j!r}")
        kind = kinds[0]
        payload = j[kind]
        if ("state" in j) != (kind == "instance"):
            raise TypedError(f"state goes with instance, and only with it: {j!r}")

        if kind in _SCALAR_KINDS:
            obj = _scalar(kind, payload)
            self._register(ident, obj)
            return obj
        if kind == "unpersistable":
            # What Twisted's unjelly makes of ["unpersistable", reason].
            reason = _text(kind, payload).encode("utf-8")
            obj = jelly.Unpersistable(f"Unpersistable data: {reason}")
            self._register(ident, obj)
            return obj
        if kind in ("list", "tuple", "set", "frozenset"):
            if not isinstance(payload, list):
                raise TypedError(f"{kind} wants an array, got {payload!r}")
        if kind == "list":
            return self._list(ident, payload)
        if kind == "dict":
            return self._dict(ident, payload)
        if kind == "set":
            return self._set(ident, payload)
        if kind == "tuple":
            return self._immutable(ident, payload, tuple)
        if kind == "frozenset":
            return self._immutable(ident, payload, frozenset)
        if kind == "instance":
            return self._instance(ident, payload, j["state"])
        raise TypedError(f"unknown kind {kind!r} in {j!r}")

    def _list(self, ident, payload):
        out = []
        self._register(ident, out)
        for e in payload:
            v = self._value(e)
            if isinstance(v, _Pending):
                v.then(lambda obj, i=len(out): out.__setitem__(i, obj))
                v = None
            out.append(v)
        return out

    def _dict(self, ident, payload):
        out = {}
        self._register(ident, out)
        if not isinstance(payload, list):
            raise TypedError(f"dict wants an array of pairs, got {payload!r}")
        for pair in payload:
            if not isinstance(pair, list) or len(pair) != 2:
                raise TypedError(f"dict entry wants [key, value], got {pair!r}")
            k = self._value(pair[0])
            if isinstance(k, _Pending):
                raise TypedError(f"a dict key is {k.what}, which is not built yet (a cycle)")
            v = self._value(pair[1])
            if isinstance(v, _Pending):
                v.then(lambda obj, k=k: out.__setitem__(k, obj))
                v = None
            out[k] = v
        return out

    def _set(self, ident, payload):
        out = set()
        self._register(ident, out)
        for e in payload:
            v = self._value(e)
            if isinstance(v, _Pending):
                raise TypedError(f"a set element is {v.what}, which is not built yet (a cycle)")
            out.add(v)
        return out

    def _immutable(self, ident, payload, make):
        what = f"a {make.__name__}" + ("" if ident is None else f" (id {ident})")
        me = None
        if ident is not None:
            me = _Pending(self, what)
            self.ids[ident] = me
        items = [self._value(e) for e in payload]
        waiting = [i for i, v in enumerate(items) if isinstance(v, _Pending)]

        def finish():
            obj = make(items)
            if ident is not None:
                self.ids[ident] = obj
            if me is not None:
                me.resolve(obj)
            return obj

        if not waiting:
            return finish()
        if me is None:
            me = _Pending(self, what)
        left = [len(waiting)]

        def fill(obj, i):
            items[i] = obj
            left[0] -= 1
            if left[0] == 0:
                finish()

        for i in waiting:
            items[i].then(lambda obj, i=i: fill(obj, i))
        return me

    def _instance(self, ident, name, state_json):
        name = _text("instance", name)
        cls = namedObject(name)
        if not isinstance(cls, type):
            raise TypedError(f"{name} is not a class")
        inst = cls.__new__(cls)
        self._register(ident, inst)
        state = self._value(state_json)
        if isinstance(state, _Pending):
            raise TypedError(f"the state of {name} is {state.what}, which is not built yet (a cycle)")
        setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)
        elif isinstance(state, dict):
            inst.__dict__ = state
        else:
            raise TypedError(f"{name} has no __setstate__, so its state must be a dict, not {state!r}")
        return inst


def python_value(typed):
    """The Python object graph a typed value describes."""
    return ValueBuilder().build(typed)
