#!/usr/bin/env python3
"""A minimal Perspective Broker login server (twisted.cred) on real Twisted, for the Rust interop tests.

    login_server.py [PORT] [--tls CERT.pem KEY.pem]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) with a
PBServerFactory for a Portal whose only checker is
InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland"), and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
A login goes through PB's challenge/response (root.login(username) ->
[challenge, challenger]; challenger.respond(md5(md5(password) + challenge),
mind) -> the perspective).  Alice's perspective (a pb.Avatar) answers:

    whoami()        -> "alice" (str)
    echo(x)         -> x
    callMeBack(x)   -> whatever the mind given at login answers to
                       mind.callRemote("hello", x); None if no mind was given

Lines on stdout (each flushed), besides the first:

    login alice     the realm made her avatar (after a successful check)
    logout alice    her logout callable ran (the connection was dropped)

A wrong password or an unknown user fails the `respond` call with
twisted.cred.error.UnauthorizedLogin (an empty message); Twisted's log,
where PB logs that failure, goes to stderr.

When stdin is a pipe the server exits 0 as soon as it is closed (at EOF);
otherwise (a terminal, /dev/null) only a signal stops it.  Either way it
gives up and exits 1 after 120 seconds.

--tls is not implemented yet (TLS is a later step: Twisted needs pyOpenSSL,
the `twisted[tls]` extra, which the interop venv does not install): it
exits 2 with a message.  Self-test with login_client.py:

    target/interop-venv/bin/python tests/interop/python/login_server.py 0
    target/interop-venv/bin/python tests/interop/python/login_client.py <port>
"""

import os
import stat
import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "login_server.py"
LIFETIME = peers.IDLE_LIMIT  # seconds before giving up

peers.require_twisted(PROGRAM)

from twisted.cred import checkers, portal  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.interfaces import IReadDescriptor  # noqa: E402
from twisted.internet.main import CONNECTION_DONE  # noqa: E402
from twisted.python import log  # noqa: E402
from twisted.spread import pb  # noqa: E402
from zope.interface import implementer  # noqa: E402


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class User(pb.Avatar):
    def __init__(self, name, mind):
        self.name = name
        self.mind = mind

    def perspective_whoami(self):
        return self.name

    def perspective_echo(self, x):
        return x

    def perspective_callMeBack(self, x):
        if self.mind is None:
            return None
        return self.mind.callRemote("hello", x)


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError("only pb.IPerspective")
        # The checker gives the username as the client sent it: bytes.
        name = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else str(avatarId)
        say(f"login {name}")
        return pb.IPerspective, User(name, mind), lambda: say(f"logout {name}")


@implementer(IReadDescriptor)
class StdinWatch:
    """Stops the reactor (exit 0) when stdin, a pipe, reaches EOF or hangs up."""

    def __init__(self, status):
        self.status = status

    def fileno(self):
        return 0

    def logPrefix(self):
        return "stdin"

    def doRead(self):
        try:
            data = os.read(0, 4096)
        except BlockingIOError:
            return None
        except OSError as e:
            return e
        # Whatever is written to stdin is ignored; EOF ends the run (the
        # reactor then calls connectionLost).
        return None if data else CONNECTION_DONE

    def connectionLost(self, reason):
        self.status["code"] = 0
        if reactor.running:
            reactor.stop()


def watch_stdin(status):
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        reactor.addReader(StdinWatch(status))


def parse(argv):
    """(port, tls) from `[PORT] [--tls CERT KEY]`; tls is None or (cert, key)."""
    args = list(argv[1:])
    tls = None
    if "--tls" in args:
        i = args.index("--tls")
        if len(args) != i + 3:
            sys.exit(f"{PROGRAM}: --tls takes two arguments, CERT.pem KEY.pem, and comes last")
        tls = (args[i + 1], args[i + 2])
        del args[i:]
    port, _ = peers.parse_args(PROGRAM, [PROGRAM] + args)
    return port, tls


def main(argv):
    port, tls = parse(argv)
    if tls is not None:
        sys.stderr.write(
            f"{PROGRAM}: --tls is not implemented yet (TLS is a later step; "
            "Twisted's TLS needs pyOpenSSL, the twisted[tls] extra)\n"
        )
        return 2
    status = {"code": 1}

    def give_up():
        sys.stderr.write(f"{PROGRAM}: still running after {LIFETIME:.0f} s, exiting\n")
        status["code"] = 1
        reactor.stop()

    log.startLogging(sys.stderr, setStdout=False)
    checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
    factory = pb.PBServerFactory(portal.Portal(Realm(), [checker]))
    listening = reactor.listenTCP(port, factory, interface="127.0.0.1")
    say(f"listening on 127.0.0.1:{listening.getHost().port}")
    watch_stdin(status)
    timer = reactor.callLater(LIFETIME, give_up)
    reactor.run()
    if timer.active():
        timer.cancel()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
