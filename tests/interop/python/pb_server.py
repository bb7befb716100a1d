#!/usr/bin/env python3
"""The scenario Perspective Broker server on real Twisted, for the Rust interop tests.

    pb_server.py [PORT]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
pb_client.py runs its scenarios against this server (to check that its
expectations are Twisted's behaviour) and against the Rust server.

Every connection gets its own root object (ScenarioRoot.rootObject), which
knows its broker and keeps its own `keep` and `record` lists.  Remote methods
(wire names):

    echo(x)             -> x
    add(a, b)           -> a + b
    fail(msg)           -> raises ValueError(msg)
    failExpected(msg)   -> raises KnownError(msg), a pb.Error subclass
    kw(a, b=None, c=None) -> {"a": a, "b": b, "c": c}
    callBack(ref, value) -> whatever ref.callRemote("notify", value) gives
    returnIt(ref)       -> ref (goes back to its owner as ["local", luid])
    keep(ref)           -> keeps ref, answers how many are kept
    dropKept()          -> forgets the kept references (the decrefs go out), True
    makeChild()         -> a new Child; Child.ping(x) -> ["pong", x]
    record(x)           -> appends x (meant for answerRequired 0)
    recorded()          -> the list of recorded values
    tableSize()         -> len(broker.localObjects) for this connection
    hang()              -> never answers
    hangUp()            -> never answers; drops the connection 50 ms later
    shutdown()          -> None, then the reactor stops a moment later

No class is registered for unjellying, so arguments holding copyable
instances are refused with InsecureJelly.  The program exits 0 after a
shutdown() call, or 1 if nobody called it within 120 seconds.  Diagnostics
(Twisted's log) go to stderr.
"""

import gc
import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("pb_server.py")

from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402


class KnownError(pb.Error):
    """An expected failure: pb.Error subclasses are not logged by the callee."""


class Child(pb.Referenceable):
    def remote_ping(self, x):
        return ["pong", x]


class ScenarioRoot(pb.Root):
    """The root published to each connection; `broker` is None on the factory's copy."""

    def __init__(self, broker=None):
        self.broker = broker
        self.kept = []
        self.records = []

    def rootObject(self, broker):
        # Called once per connection by PBServerFactory.buildProtocol.
        return ScenarioRoot(broker)

    def remote_echo(self, x):
        return x

    def remote_add(self, a, b):
        return a + b

    def remote_fail(self, msg):
        raise ValueError(msg)

    def remote_failWithTraceback(self):
        raise ValueError("traced")

    def remote_failExpected(self, msg):
        raise KnownError(msg)

    def remote_kw(self, a, b=None, c=None):
        return {"a": a, "b": b, "c": c}

    def remote_callBack(self, ref, value):
        return ref.callRemote("notify", value)

    def remote_returnIt(self, ref):
        return ref

    def remote_keep(self, ref):
        self.kept.append(ref)
        return len(self.kept)

    def remote_dropKept(self):
        del self.kept[:]
        gc.collect()
        gc.collect()
        return True

    def remote_makeChild(self):
        return Child()

    def remote_record(self, x):
        self.records.append(x)

    def remote_recorded(self):
        return self.records

    def remote_tableSize(self):
        return len(self.broker.localObjects)

    def remote_hang(self):
        return defer.Deferred()

    def remote_hangUp(self):
        reactor.callLater(0.05, self.broker.transport.loseConnection)
        return defer.Deferred()

    def remote_shutdown(self):
        peers.shutdown_soon()
        return None


def main(argv):
    port, _ = peers.parse_args("pb_server.py", argv)
    # Tracebacks on: the scenario client checks that they travel.
    return peers.serve("pb_server.py", ScenarioRoot(), port, unsafe_tracebacks=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
