#!/usr/bin/env python3
"""The scenario login (twisted.cred) Perspective Broker server on real Twisted, for the Rust interop tests.

    cred_server.py [PORT]

cred_client.py runs its checks against this server (to check that its
expectations are Twisted's behaviour) and against the Rust server, which
implements exactly what follows.

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) with
PBServerFactory(Portal(realm, checkers)) and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
The checkers:

    InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland", bob=b"rabbit")
        PB's challenge/response: root.login(username) -> [challenge,
        challenger]; challenger.respond(md5(md5(password) + challenge), mind)
        -> the perspective.  The avatar id is the username as sent (bytes,
        b"alice"); a wrong password or an unknown user fails `respond` with
        twisted.cred.error.UnauthorizedLogin, whose message is empty.
    AllowAnonymousAccess()
        root.loginAnonymous(mind) -> the perspective; the avatar id is
        twisted.cred.checkers.ANONYMOUS (the empty tuple), which the realm
        names "anonymous".

The realm makes a new Account (a pb.Avatar) for every login, keeping the mind
given at login (a remote reference, or None), and prints `login <id>`; the
logout callable, which Twisted calls when the connection is lost, prints
`logout <id>` (<id> being alice, bob or anonymous).  Perspective methods (wire
names), the same for every account:

    whoami()        -> the avatar id as str: "alice", "bob", "anonymous"
    echo(x)         -> x
    callMeBack(x)   -> the answer of mind.callRemote("hello", x); None
                       without a mind
    fail(msg)       -> raises ValueError(msg): the caller gets a failure of
                       type builtins.ValueError with the message msg
    getView()       -> the one shared View (a pb.Viewable).  Sent as the answer
                       of a perspective call, it arrives as a reference bound to
                       that caller's perspective; its method
                           whoami(greeting) -> [greeting, <the avatar id of the
                                               perspective it was given to>]
                       (view_whoami(perspective, greeting) here)
    getBoard()      -> the one shared Board (a pb.Cacheable) whose wire class
                       is exactly `cred_server.Board` (not __main__.Board).
                       When it is first sent over a connection, its state for
                       the perspective is
                           {"viewer": <avatar id>, "notes": <all notes so far>}
                       (the notes start as ["welcome"]), and the observer (the
                       reference to the caller's RemoteCache) is remembered for
                       that perspective.  When the caller drops its cache
                       (decache) or the connection is lost, it is forgotten
                       and the server prints `stopped observing <avatar id>`
                       (on a lost connection, before that connection's
                       `logout` line).
    post(note)      -> appends note to the board's notes, sends the message
                       post(note) (observe_post on the RemoteCache; a
                       "cachemessage" which wants an answer) to every
                       remembered observer, and answers how many observers
                       there were.  On the poster's own connection the
                       observe_post message goes out before the answer.

Every stdout line is flushed.  Diagnostics, Twisted's log (where PB logs
the ValueError and UnauthorizedLogin failures it sends), go to stderr.

When stdin is a pipe the server exits 0 as soon as it is closed (at EOF);
otherwise (a terminal, /dev/null) only a signal stops it.  Either way it
gives up and exits 1 after 120 seconds.  Self-test (the client prints one
`ok NAME` line per check):

    target/interop-venv/bin/python tests/interop/python/cred_server.py 0
    target/interop-venv/bin/python tests/interop/python/cred_client.py <port>
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "cred_server.py"
WIRE_BOARD = b"cred_server.Board"

peers.require_twisted(PROGRAM)

from peers import say  # noqa: E402
from twisted.cred import checkers, portal  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.python import log  # noqa: E402
from twisted.spread import pb  # noqa: E402


class View(pb.Viewable):
    def view_whoami(self, perspective, greeting):
        return [greeting, perspective.name]


class Board(pb.Cacheable):
    def __init__(self):
        self.notes = ["welcome"]
        self.observers = {}  # perspective (Account) -> RemoteCacheObserver

    def getTypeToCopyFor(self, perspective):
        # Run as a script this class is __main__.Board; the wire name is fixed.
        return WIRE_BOARD

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers[perspective] = observer
        return {"viewer": perspective.name, "notes": list(self.notes)}

    def stoppedObserving(self, perspective, observer):
        # `observer` is a new RemoteCacheObserver equal to the remembered one.
        self.observers.pop(perspective, None)
        say(f"stopped observing {perspective.name}")

    def post(self, note):
        self.notes.append(note)
        observers = list(self.observers.values())
        for observer in observers:
            d = defer.maybeDeferred(observer.callRemote, "post", note)
            d.addErrback(log.err, "post to an observer failed")
        return len(observers)


VIEW = View()
BOARD = Board()


class Account(peers.MindAvatar, pb.Avatar):
    """Every account's perspective: whoami(), echo(x), callMeBack(x) and the following."""

    def perspective_fail(self, msg):
        raise ValueError(msg)

    def perspective_getView(self):
        return VIEW

    def perspective_getBoard(self):
        return BOARD

    def perspective_post(self, note):
        return BOARD.post(note)


def main(argv):
    port, _ = peers.parse_args(PROGRAM, argv)

    def listen():
        users = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland", bob=b"rabbit")
        the_portal = portal.Portal(peers.realm(Account), [users, checkers.AllowAnonymousAccess()])
        return reactor.listenTCP(port, pb.PBServerFactory(the_portal), interface="127.0.0.1")

    return peers.serve_until_eof(PROGRAM, listen)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
