#!/usr/bin/env python3
"""A Twisted PB client that logs in, holds what a client holds, and waits to be killed.

    fault_client.py PORT

Connects to 127.0.0.1:PORT, where a server implementing cred_server.py
listens, logs in as alice/wonderland with a mind, takes a Board cache
(getBoard) and a view (getView), then calls callMeBack("x") without
waiting for it.  The mind's hello(x) never answers (a Deferred that never
fires), so the server then has a call of ours in progress and a call of
its own to us in flight.  When hello arrives it prints `ready` and waits:
the Rust fault test kills the process there, and checks that the server
forgets everything of this client.  Anything failing before prints
`FAIL what: why` and exits 1; so does waiting 60 s.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "fault_client.py"

peers.require_twisted(PROGRAM)

from twisted.cred.credentials import UsernamePassword  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402


class Mind(pb.Referenceable):
    def remote_hello(self, x):
        peers.say("ready")
        return defer.Deferred()


class Board(pb.RemoteCache):
    def setCopyableState(self, state):
        self.state = state

    def observe_post(self, note):
        pass


pb.setUnjellyableForClass("cred_server.Board", Board)

# What the run holds, so nothing is collected before the kill.
held = []


@defer.inlineCallbacks
def start(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    perspective = yield factory.login(UsernamePassword(b"alice", b"wonderland"), Mind())
    board = yield perspective.callRemote("getBoard")
    view = yield perspective.callRemote("getView")
    held.extend([factory, perspective, board, view])
    held.append(perspective.callRemote("callMeBack", "x"))


def main(argv):
    port, _ = peers.parse_args(PROGRAM, argv)

    def failed(f):
        peers.say(f"FAIL setup: {f.getErrorMessage()}")
        peers.finish(1)

    start(port).addErrback(failed)
    return peers.run_client(PROGRAM, time_limit=60.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
