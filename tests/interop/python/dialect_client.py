#!/usr/bin/env python3
"""Twisted's PB client meeting a server's dialect offer, for the Rust interop tests.

    dialect_client.py PORT

Connects to 127.0.0.1:PORT, notes the dialect offer the server sends and the
dialect Twisted's Banana picks from it, then calls the root's echo with a few
values (vocabulary words among them, so that `pb` compression is in play) and
checks each comes back equal. Prints, on stdout:

    offer [b'spread-msgpack', b'pb', b'none']
    chosen b'pb'
    echo ok N

Exits 0 when every echo came back equal, 1 otherwise (including a failed
connection or no progress within 30 seconds). A spread server offers its own
`spread-msgpack` first; Twisted does not know it, so it must skip it and take
`pb` (banana.py: the client takes the first name of the server's list that
is in its own `knownDialects`).
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "dialect_client.py"

peers.require_twisted(PROGRAM)

from peers import failure_text, outcome, say  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402

SEEN = {}


class RecordingBroker(pb.Broker):
    """A Broker that remembers the offer it got and the dialect it chose."""

    def callExpressionReceived(self, obj):
        if not self.currentDialect:
            SEEN["offer"] = obj
        pb.Broker.callExpressionReceived(self, obj)

    def connectionReady(self):
        # Banana calls this once the dialect is chosen, and PB's root
        # object is handed out from inside it: record the choice first.
        SEEN["chosen"] = self.currentDialect
        pb.Broker.connectionReady(self)


class Factory(pb.PBClientFactory):
    protocol = RecordingBroker


@defer.inlineCallbacks
def run(port):
    problems = []
    factory = Factory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    root = yield factory.getRootObject()
    say(f"offer {SEEN.get('offer')!r}")
    say(f"chosen {SEEN.get('chosen')!r}")
    values = [
        "hello",
        b"list",
        [b"message", b"answer", 1, -2**70, 2.5, None, True],
        {"version": (6, b"dictionary"), "k": [b"x" * 300]},
    ]
    echoed = 0
    for sent in values:
        ok, got = yield outcome(root.callRemote("echo", sent))
        if not ok:
            problems.append(f"echo({sent!r}) failed: {failure_text(got)}")
        elif got != sent:
            problems.append(f"echo({sent!r}) gave {got!r}")
        else:
            echoed += 1
    say(f"echo ok {echoed}")
    factory.disconnect()
    return problems


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(f"usage: {PROGRAM} PORT\n")
        return 2
    port = int(argv[1])
    status = {"code": 1}

    def finished(problems):
        for p in problems:
            sys.stderr.write(f"{PROGRAM}: {p}\n")
        status["code"] = 1 if problems else 0

    def crashed(f):
        sys.stderr.write(f"{PROGRAM}: {failure_text(f)}\n")

    def give_up():
        sys.stderr.write(f"{PROGRAM}: gave up after {peers.TIME_LIMIT:.0f} s\n")

    peers.run_until_done(lambda: run(port), peers.TIME_LIMIT, give_up, finished, crashed)
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
