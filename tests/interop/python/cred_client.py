#!/usr/bin/env python3
"""The scenario login (twisted.cred) Perspective Broker client on real Twisted, for the Rust interop tests.

    cred_client.py PORT

Connects to 127.0.0.1:PORT, where a server implementing cred_server.py
listens (the Rust scenario server, or cred_server.py itself; it must be
fresh: the board's notes are checked from the start), and runs the checks
below in order.  Each prints one line on stdout, `ok NAME` or
`FAIL NAME: detail`; the last line is `N passed, M failed`.  The exit
status is 0 iff nothing failed.  One call gives up after 10 seconds, the
whole run after 30 (what is left counts as failed).

Every login passes a mind, a pb.Referenceable answering
hello(x) -> ["mind", x].  A pb.RemoteCache subclass is registered for
`cred_server.Board`: it keeps the state it gets ({"viewer": ..., "notes":
[...]}) and appends to its notes on observe_post(note).

Connection A:
    login          PBClientFactory.login(UsernamePassword(b"alice",
                   b"wonderland"), mind) gives a perspective; whoami() == "alice"
    echo           echo(<a nested value: list, str, float, None, bool, dict,
                   bytes, tuple, negative int>) gives it back, types and all
    callMeBack     callMeBack("x") == ["mind", "x"] (the server calls our mind)
    fail           fail("boom") fails: a CopiedFailure of type
                   builtins.ValueError with the message "boom"
    view           getView() gives a reference; whoami("hey") on it ==
                   ["hey", "alice"]
    board          getBoard() gives a Board (our RemoteCache) whose viewer is
                   "alice" and notes ["welcome"]
Connection B:
    secondBoard    login bob/rabbit; whoami() == "bob"; getBoard() gives another
                   Board (the same object on the server) whose viewer is "bob"
                   and notes ["welcome"]
    post           bob's post("hi") answers 2; both Boards (alice's and bob's)
                   get observe_post("hi"): their notes become ["welcome", "hi"]
                   (each Board fires a Deferred when the note arrives)
Connection C (one connection for all three logins):
    wrongPassword  login alice/"wrong" fails with a failure of type
                   twisted.cred.error.UnauthorizedLogin
    unknownUser    login nobody/"nothing" fails likewise
    anonymous      PBClientFactory.login(Anonymous(), mind) gives a
                   perspective whose whoami() == "anonymous"
Last:
    disconnect     the three connections are closed from here, and each one's
                   disconnect notification fires

Self-test against Twisted's own server (run from the repository root):

    target/interop-venv/bin/python tests/interop/python/cred_server.py 0 > /tmp/cred_server.out &
    PORT=...   # from the `listening on 127.0.0.1:PORT` line
    target/interop-venv/bin/python tests/interop/python/cred_client.py "$PORT"

prints `ok login`, `ok echo`, `ok callMeBack`, `ok fail`, `ok view`,
`ok board`, `ok secondBoard`, `ok post`, `ok wrongPassword`, `ok unknownUser`,
`ok anonymous`, `ok disconnect`, `12 passed, 0 failed`.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "cred_client.py"
TIME_LIMIT = 30.0

peers.require_twisted(PROGRAM)

from peers import Problem, answer, call, expect, failure_text, failure_type, run_one, settle, show  # noqa: E402
from twisted.cred.credentials import Anonymous, UsernamePassword  # noqa: E402
from twisted.cred.error import UnauthorizedLogin  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402

UNAUTHORIZED = "twisted.cred.error.UnauthorizedLogin"
NESTED = [1, "two", 3.5, None, True, {"k": [b"v", ("t", -7)], "e": {}}]


# ---------------------------------------------------------------------------
# The mind and the board's cache.


class Mind(pb.Referenceable):
    def remote_hello(self, x):
        return ["mind", x]


class Board(pb.RemoteCache):
    """Our copy of a cred_server.Board: its viewer and notes."""

    def __init__(self):
        # Called (without arguments) when the cache is made, before the state.
        self.viewer = None
        self.notes = []
        self.waiting = []  # [(count, Deferred)]

    def setCopyableState(self, state):
        self.viewer = state.get("viewer")
        self.notes = list(state.get("notes", []))

    def observe_post(self, note):
        self.notes.append(note)
        ready = [w for w in self.waiting if len(self.notes) >= w[0]]
        self.waiting = [w for w in self.waiting if len(self.notes) < w[0]]
        for _, d in ready:
            d.callback(list(self.notes))

    def notes_when(self, count):
        """A Deferred firing with the notes once there are `count` of them."""
        if len(self.notes) >= count:
            return defer.succeed(list(self.notes))
        d = defer.Deferred()
        self.waiting.append((count, d))
        return d


pb.setUnjellyableForClass("cred_server.Board", Board)


# ---------------------------------------------------------------------------
# The checks.  `s` holds what they share: factories, perspectives, boards.


def new_factory(port, s):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    s.setdefault("factories", []).append(factory)
    return factory


@defer.inlineCallbacks
def login(factory, creds):
    ok, got = yield settle(factory.login(creds, Mind()))
    if not ok:
        raise Problem(f"login failed: {failure_text(got)}")
    expect(isinstance(got, pb.RemoteReference), f"login gave {got!r}")
    return got


def need(s, key):
    expect(s.get(key) is not None, f"no {key} (an earlier check failed)")
    return s[key]


@defer.inlineCallbacks
def c_login(s, port):
    factory = new_factory(port, s)
    alice = yield login(factory, UsernamePassword(b"alice", b"wonderland"))
    s["alice"] = alice
    name = yield answer(alice, "whoami")
    expect(name == "alice" and type(name) is str, f"whoami gave {name!r}")


@defer.inlineCallbacks
def c_echo(s, port):
    got = yield answer(need(s, "alice"), "echo", NESTED)
    # repr() tells True from 1, tuples from lists and bytes from str.
    expect(repr(got) == repr(NESTED), f"echo gave {got!r}, sent {NESTED!r}")


@defer.inlineCallbacks
def c_call_me_back(s, port):
    got = yield answer(need(s, "alice"), "callMeBack", "x")
    expect(got == ["mind", "x"], f"callMeBack('x') gave {got!r}")


@defer.inlineCallbacks
def c_fail(s, port):
    ok, got = yield call(need(s, "alice"), "fail", "boom")
    expect(not ok, f"fail('boom') answered {show(got)}")
    expect(isinstance(got, pb.CopiedFailure), f"not a remote failure: {failure_text(got)}")
    expect(failure_type(got) == "builtins.ValueError", f"failed with {failure_text(got)}")
    expect(got.value == "boom", f"message {got.value!r}")


@defer.inlineCallbacks
def c_view(s, port):
    view = yield answer(need(s, "alice"), "getView")
    expect(isinstance(view, pb.RemoteReference), f"getView gave {view!r}")
    got = yield answer(view, "whoami", "hey")
    expect(got == ["hey", "alice"], f"view.whoami('hey') gave {got!r}")


@defer.inlineCallbacks
def c_board(s, port):
    board = yield answer(need(s, "alice"), "getBoard")
    expect(isinstance(board, Board), f"getBoard gave {board!r}")
    s["aliceBoard"] = board
    expect(board.viewer == "alice", f"viewer {board.viewer!r}")
    expect(board.notes == ["welcome"], f"notes {board.notes!r}")


@defer.inlineCallbacks
def c_second_board(s, port):
    factory = new_factory(port, s)
    bob = yield login(factory, UsernamePassword(b"bob", b"rabbit"))
    s["bob"] = bob
    name = yield answer(bob, "whoami")
    expect(name == "bob", f"whoami gave {name!r}")
    board = yield answer(bob, "getBoard")
    expect(isinstance(board, Board), f"getBoard gave {board!r}")
    s["bobBoard"] = board
    expect(board is not s.get("aliceBoard"), "bob's Board is alice's object")
    expect(board.viewer == "bob", f"viewer {board.viewer!r}")
    expect(board.notes == ["welcome"], f"notes {board.notes!r}")
    if s.get("aliceBoard") is not None:
        expect(s["aliceBoard"].viewer == "alice", f"alice's viewer became {s['aliceBoard'].viewer!r}")


@defer.inlineCallbacks
def c_post(s, port):
    alice_board, bob_board = need(s, "aliceBoard"), need(s, "bobBoard")
    n = yield answer(need(s, "bob"), "post", "hi")
    expect(n == 2, f"post('hi') answered {n!r}")
    for who, board in (("alice", alice_board), ("bob", bob_board)):
        ok, notes = yield settle(board.notes_when(2))
        expect(ok, f"{who}'s Board: no update ({show(notes)}); notes {board.notes!r}")
        expect(notes == ["welcome", "hi"], f"{who}'s Board: notes {notes!r}")


@defer.inlineCallbacks
def expect_unauthorized(factory, user, password):
    ok, got = yield settle(factory.login(UsernamePassword(user, password), Mind()))
    expect(not ok, f"login {user!r}/{password!r} gave {show(got)}")
    expect(isinstance(got, pb.CopiedFailure), f"not a remote failure: {failure_text(got)}")
    expect(failure_type(got) == UNAUTHORIZED, f"failed with {failure_text(got)}")
    expect(got.check(UnauthorizedLogin) is UnauthorizedLogin, f"check(UnauthorizedLogin) failed; parents {got.parents!r}")


def c_wrong_password(s, port):
    s["guestFactory"] = new_factory(port, s)
    return expect_unauthorized(s["guestFactory"], b"alice", b"wrong")


def c_unknown_user(s, port):
    return expect_unauthorized(need(s, "guestFactory"), b"nobody", b"nothing")


@defer.inlineCallbacks
def c_anonymous(s, port):
    anon = yield login(need(s, "guestFactory"), Anonymous())
    s["anonymous"] = anon
    name = yield answer(anon, "whoami")
    expect(name == "anonymous", f"whoami gave {name!r}")


@defer.inlineCallbacks
def c_disconnect(s, port):
    gone = []
    for key in ("alice", "bob", "anonymous"):
        ref = s.get(key)
        if ref is not None and not ref.broker.disconnected:
            d = defer.Deferred()
            ref.notifyOnDisconnect(lambda _, d=d: d.callback(None))
            gone.append((key, settle(d)))
    for factory in s.get("factories", []):
        factory.disconnect()
    for key, d in gone:
        ok, got = yield d
        expect(ok, f"{key}'s connection: no disconnect notification ({show(got)})")
    expect(len(gone) == 3, f"only {len(gone)} of 3 connections were open")


CHECKS = [
    ("login", c_login),
    ("echo", c_echo),
    ("callMeBack", c_call_me_back),
    ("fail", c_fail),
    ("view", c_view),
    ("board", c_board),
    ("secondBoard", c_second_board),
    ("post", c_post),
    ("wrongPassword", c_wrong_password),
    ("unknownUser", c_unknown_user),
    ("anonymous", c_anonymous),
    ("disconnect", c_disconnect),
]


# ---------------------------------------------------------------------------


@defer.inlineCallbacks
def run(tally, port):
    s = {}
    for name, fn in CHECKS:
        yield run_one(tally, name, fn, s, port)
    for factory in s.get("factories", []):
        factory.disconnect()


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {PROGRAM} PORT")
    try:
        port = int(argv[1])
    except ValueError:
        sys.exit(f"{PROGRAM}: the port must be a number, not {argv[1]!r}")
    return peers.run_checks(lambda tally: run(tally, port), TIME_LIMIT)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
