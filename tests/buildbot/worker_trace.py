"""A record of every Perspective Broker call the stock Python worker takes part in.

    run_scenarios.py --worker python --trace FILE

appends two lines to the worker's buildbot.tac that load this module and call
install(FILE).  From then on the worker writes one JSON object per line to
FILE for each remote call, in both directions:

    {"t": 1.234, "dir": "master->worker", "to": "bot", "method": "setBuilderList",
     "args": "...", "kwargs": "...", "answer": "..."}
    {"t": 1.240, "dir": "worker->master", "method": "update", "args": "...", ...}

`t` is seconds since install().  "master->worker" lines are calls the master
made on the worker's objects: `to` is "bot" (the worker's root object, the
mind the master holds) or "builder NAME" (one builder's object handed over by
setBuilderList).  "worker->master" lines are the worker's callRemote() on the
master's references: the root at login, the perspective (keepalive,
shutdown), a command's RemoteCommand (update, complete) and the file readers
and writers of transfers (read, write, utime, unpack, close).  `answer` is
what came back; `error` replaces it when the call failed.

Values are written as Python reprs so that str and bytes stay apart (PB
carries both): bytes longer than DATA_PREFIX are shortened to their length and
first bytes, remote references to `<ref>`, our own referenceable objects to
`<Referenceable CLASS>`.  The record is for reading, not replaying.

This module only wraps methods at run time, in the worker process; no
Buildbot file is changed.  Run as a program it prints a record for reading,
one call a line, each cut to WIDTH characters (default 400):

    worker_trace.py FILE [WIDTH]
"""

import json
import sys
import time

DATA_PREFIX = 48


def shape(value):
    """A repr of `value` that keeps types visible and large data short."""
    from twisted.spread import pb

    if isinstance(value, bytes):
        if len(value) > DATA_PREFIX:
            return f"<bytes len={len(value)} head={value[:DATA_PREFIX]!r}>"
        return repr(value)
    if isinstance(value, str):
        if len(value) > 4 * DATA_PREFIX:
            return f"<str len={len(value)} head={value[:DATA_PREFIX]!r}>"
        return repr(value)
    if isinstance(value, dict):
        items = ", ".join(f"{shape(k)}: {shape(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(shape(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(shape(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, pb.RemoteReference):
        return "<ref>"
    if isinstance(value, pb.Referenceable):
        return f"<Referenceable {type(value).__name__}>"
    return repr(value)


class _Recorder:
    def __init__(self, path):
        self.start = time.monotonic()
        self.out = open(path, "a", buffering=1, encoding="utf-8")

    def write(self, entry):
        entry = {"t": round(time.monotonic() - self.start, 3), **entry}
        self.out.write(json.dumps(entry) + "\n")

    def call(self, entry, result):
        """Writes `entry` once `result` (a value or a Deferred) has an outcome; returns it."""
        from twisted.internet import defer

        if not isinstance(result, defer.Deferred):
            self.write({**entry, "answer": shape(result)})
            return result

        def answered(value):
            self.write({**entry, "answer": shape(value)})
            return value

        def failed(failure):
            self.write({**entry, "error": f"{failure.type.__name__}: {failure.getErrorMessage()}"})
            return failure

        result.addCallbacks(answered, failed)
        return result


def _wrap_remote_methods(recorder, cls, describe, depth):
    """Wraps every remote_* method `cls` has (its own or inherited).

    A remote_* method that another one calls directly (getWorkerInfo calls
    getVersion and getCommands) is not a PB call: only the outermost call is
    recorded, which `depth` (shared by every wrapper) tells apart.
    """
    for attr in dir(cls):
        if not attr.startswith("remote_"):
            continue
        original = getattr(cls, attr)

        def wrapper(self, *args, _original=original, _method=attr[len("remote_") :], **kwargs):
            if depth["now"]:
                return _original(self, *args, **kwargs)
            entry = {
                "dir": "master->worker",
                "to": describe(self),
                "method": _method,
                "args": shape(args),
                "kwargs": shape(kwargs),
            }
            depth["now"] += 1
            try:
                result = _original(self, *args, **kwargs)
            except Exception as e:
                recorder.write({**entry, "error": f"{type(e).__name__}: {e}"})
                raise
            finally:
                depth["now"] -= 1
            return recorder.call(entry, result)

        setattr(cls, attr, wrapper)


def install(path):
    """Starts recording to `path` (appended to, one JSON object a line)."""
    from twisted.spread import pb

    from buildbot_worker import pb as worker_pb

    recorder = _Recorder(path)
    depth = {"now": 0}
    _wrap_remote_methods(recorder, worker_pb.BotPb, lambda self: "bot", depth)
    _wrap_remote_methods(recorder, worker_pb.WorkerForBuilderPb, lambda self: f"builder {self.name}", depth)

    original_call = pb.RemoteReference.callRemote

    def call_remote(self, _name, *args, **kwargs):
        entry = {
            "dir": "worker->master",
            "method": _name,
            "args": shape(args),
            "kwargs": shape(kwargs),
        }
        return recorder.call(entry, original_call(self, _name, *args, **kwargs))

    pb.RemoteReference.callRemote = call_remote


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit("usage: worker_trace.py FILE [WIDTH]")
    width = int(argv[2]) if len(argv) == 3 else 400
    with open(argv[1], encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            where = f" {e['to']}" if "to" in e else ""
            outcome = f"-> {e['answer']}" if "answer" in e else f"!! {e.get('error')}"
            kwargs = f" {e['kwargs']}" if e["kwargs"] != "{}" else ""
            text = f"{e['t']:8.3f} {e['dir']}{where} {e['method']}{e['args']}{kwargs} {outcome}"
            print(text[:width])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
