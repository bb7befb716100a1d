#!/usr/bin/env python3
"""A line-oriented JSON peer running real Twisted, for the Rust interop tests.

The Rust side is tests/interop/src/peer.rs.  This program reads one JSON
object per line from stdin until EOF and answers each with one JSON line on
stdout (blank lines are skipped and get no answer):

    {"banana_pb": "<hex>"}
        Decode the bytes with Twisted's Banana in the pb dialect (exactly one
        expression), unjelly it with jelly.unjelly() (its permissive default
        policy; classes are found by import), and answer
        {"value": <typed value of the object>,
         "banana_pb": "<hex of Banana(jelly.jelly(object)), pb dialect>"}.

    {"typed": <typed value>}
        Build the Python object the typed value describes, jelly it, and
        answer as above (the value is derived again from the built object).

    {"pb_unjelly": "<hex>"}
        Decode as above, then unjelly under PB's own receiving policy
        (jelly.globalSecurity, with twisted.spread.pb imported and nothing
        else registered) and answer {"accepted": <typed value>} or
        {"insecure": "<str of the InsecureJelly>"}.

Any failure is answered with {"error": "<module.ExceptionClass>: <message>"},
and the loop goes on.  The typed forms are those of tests/vectors/README.md.
Nothing but answers is written to stdout; diagnostics go to stderr.

Set iteration order decides the order in which jelly sends a set's
elements, and str/bytes hashes depend on PYTHONHASHSEED; when it is not set,
the peer restarts itself with PYTHONHASHSEED=0 so that its answers are
reproducible.
"""

import json
import os
import sys
import types
from pathlib import Path

EXPECTED_TWISTED = "26.10.0"

if "PYTHONHASHSEED" not in os.environ:
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

try:
    import twisted
except ImportError:
    sys.exit("jelly_peer.py: Twisted is not importable; run this with target/interop-venv/bin/python")
if twisted.__version__ != EXPECTED_TWISTED:
    sys.exit(
        f"jelly_peer.py: need Twisted {EXPECTED_TWISTED}, found {twisted.__version__} "
        f"at {twisted.__file__}"
    )

from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import jelly, pb  # noqa: E402, F401 (pb registers its tags in globalSecurity)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from typed import banana_decode, banana_encode, python_value, typed_value  # noqa: E402


# ---------------------------------------------------------------------------
# Classes that jellied instances may name.  Unjelly finds a class by importing
# its module, so each lives in a module registered in sys.modules.


def _module(name):
    mod = sys.modules.get(name)
    if mod is None:
        mod = types.ModuleType(name)
        sys.modules[name] = mod
    return mod


def _place(mod, cls):
    cls.__module__ = mod.__name__
    cls.__qualname__ = cls.__name__
    setattr(mod, cls.__name__, cls)


class Thing:
    """A plain class: its instances jelly as ["interop_classes.Thing", state]."""


_place(_module("interop_classes"), Thing)


# The golden vectors (tests/vectors/twisted-vectors.json) also hold instances
# of these, as the generator named them; plain classes under the same names
# let the peer unjelly those vectors and jelly them back to the same bytes.


class PlainThing:
    """Plays __main__.PlainThing (the generator's own plain class); this
    program runs as __main__, so the name is right as it stands."""


class CopyPond:
    """Plays copy_sender.CopyPond (a pb.Copyable on the generator's side)."""


_place(_module("copy_sender"), CopyPond)


# ---------------------------------------------------------------------------


def answer_for(obj):
    value, _ = typed_value(obj)
    wire = banana_encode(jelly.jelly(obj), b"pb")
    return {"value": value, "banana_pb": wire.hex()}


def handle(request):
    if not isinstance(request, dict) or len(request) != 1:
        raise ValueError(f"a request is an object with one key, got {request!r}")
    (kind, payload), = request.items()
    if kind == "banana_pb":
        if not isinstance(payload, str):
            raise ValueError(f"banana_pb wants a hex string, got {payload!r}")
        sexp = banana_decode(bytes.fromhex(payload), b"pb")
        return answer_for(jelly.unjelly(sexp))
    if kind == "typed":
        return answer_for(python_value(payload))
    if kind == "pb_unjelly":
        sexp = banana_decode(bytes.fromhex(payload), b"pb")
        try:
            obj = jelly.unjelly(sexp, taster=jelly.globalSecurity)
        except jelly.InsecureJelly as e:
            return {"insecure": str(e)}
        return {"accepted": typed_value(obj)[0]}
    raise ValueError(f"unknown request {kind!r}")


def main():
    out = sys.stdout
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        try:
            reply = handle(json.loads(line))
            text = json.dumps(reply)
        except Exception as e:
            reply = {"error": f"{qual(type(e))}: {e}"}
            text = json.dumps(reply)
        out.write(text + "\n")
        out.flush()


if __name__ == "__main__":
    main()
