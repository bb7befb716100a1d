#!/usr/bin/env python3
"""A minimal Perspective Broker login client (twisted.cred) on real Twisted, for the Rust interop tests.

    login_client.py [PORT] [USER] [PASSWORD] [--tls CA.pem]

Connects to 127.0.0.1:PORT (default 8800), logs in with
PBClientFactory.login(UsernamePassword(USER, PASSWORD), mind) (defaults
alice, wonderland), where the mind is a pb.Referenceable answering
hello(x) -> f"hello, {x}", then calls on the perspective, printing one line
each on stdout:

    whoami()             logged in as alice
                         whoami -> 'alice'
    echo("hello")        echo -> 'hello'
    callMeBack("there")  callMeBack -> 'hello, there'

then disconnects and exits 0 (whoami must give USER, echo "hello", and
callMeBack "hello, there").  An unauthorized login (wrong password, unknown
user: a failure of type twisted.cred.error.UnauthorizedLogin) prints

    UnauthorizedLogin: <the failure's message>

(Twisted's message is empty, so the line is "UnauthorizedLogin: " with a
trailing space) and exits 1.  Any other failure, an unexpected answer, or no
result within 30 seconds exits 2, with the reason on stderr.

--tls is not implemented yet (TLS is a later step: Twisted needs pyOpenSSL,
the `twisted[tls]` extra, which the interop venv does not install): it
exits 2 with a message.  Self-test:

    target/interop-venv/bin/python tests/interop/python/login_server.py 0
    target/interop-venv/bin/python tests/interop/python/login_client.py <port>
    target/interop-venv/bin/python tests/interop/python/login_client.py <port> alice wrong
"""

import sys

PROGRAM = "login_client.py"
EXPECTED_TWISTED = "26.10.0"
DEFAULT_PORT = 8800
TIME_LIMIT = 30.0

try:
    import twisted
except ImportError:
    sys.exit(f"{PROGRAM}: Twisted is not importable; run this with target/interop-venv/bin/python")
if twisted.__version__ != EXPECTED_TWISTED:
    sys.exit(f"{PROGRAM}: need Twisted {EXPECTED_TWISTED}, found {twisted.__version__}")

from twisted.cred.credentials import UsernamePassword  # noqa: E402
from twisted.cred.error import UnauthorizedLogin  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.python import failure  # noqa: E402
from twisted.python.reflect import qual  # noqa: E402
from twisted.spread import pb  # noqa: E402


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def failure_text(f):
    """`<type>: <message>` of a Failure, remote (CopiedFailure) or local."""
    if isinstance(f, pb.CopiedFailure):
        kind = f.type.decode("utf-8") if isinstance(f.type, bytes) else str(f.type)
        return f"{kind}: {f.value}"
    return f"{qual(f.type)}: {f.value}"


class Unexpected(Exception):
    """An answer that is not the expected one (exit status 2)."""


class Mind(pb.Referenceable):
    def remote_hello(self, x):
        return f"hello, {x}"


def outcome(d):
    """A Deferred firing with (True, result) or (False, Failure); never errbacks."""
    return d.addCallbacks(lambda r: (True, r), lambda f: (False, f))


@defer.inlineCallbacks
def run(port, user, password):
    """0 on success; else the Failure to report (a CopiedFailure stays one:
    inlineCallbacks would turn it into a RemoteError if it were raised)."""
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    try:
        creds = UsernamePassword(user.encode("utf-8"), password.encode("utf-8"))
        ok, perspective = yield outcome(factory.login(creds, Mind()))
        if not ok:
            return perspective
        ok, name = yield outcome(perspective.callRemote("whoami"))
        if not ok:
            return name
        say(f"logged in as {name}")
        say(f"whoami -> {name!r}")
        if name != user:
            raise Unexpected(f"whoami gave {name!r}, not {user!r}")
        for method, arg, want in (("echo", "hello", "hello"), ("callMeBack", "there", "hello, there")):
            ok, got = yield outcome(perspective.callRemote(method, arg))
            if not ok:
                return got
            say(f"{method} -> {got!r}")
            if got != want:
                raise Unexpected(f"{method}({arg!r}) gave {got!r}, not {want!r}")
        # Leave once the connection is closed, not while it closes.
        gone = defer.Deferred()
        perspective.notifyOnDisconnect(lambda _: gone.callback(None))
        factory.disconnect()
        yield gone
    finally:
        factory.disconnect()
    return 0


def main(argv):
    args = list(argv[1:])
    if "--tls" in args:
        i = args.index("--tls")
        if len(args) != i + 2:
            sys.exit(f"{PROGRAM}: --tls takes one argument, CA.pem, and comes last")
        sys.stderr.write(
            f"{PROGRAM}: --tls is not implemented yet (TLS is a later step; "
            "Twisted's TLS needs pyOpenSSL, the twisted[tls] extra)\n"
        )
        return 2
    if len(args) > 3:
        sys.exit(f"{PROGRAM}: expected at most PORT USER PASSWORD, got {args}")
    try:
        port = int(args[0]) if args else DEFAULT_PORT
    except ValueError:
        sys.exit(f"{PROGRAM}: the port must be a number, not {args[0]!r}")
    user = args[1] if len(args) > 1 else "alice"
    password = args[2] if len(args) > 2 else "wonderland"
    status = {"code": 2}

    def finished(result):
        if isinstance(result, failure.Failure):
            failed(result)
        else:
            status["code"] = result

    def failed(f):
        if f.check(UnauthorizedLogin):
            say(f"UnauthorizedLogin: {f.value}")
            status["code"] = 1
        elif f.check(Unexpected):
            sys.stderr.write(f"{PROGRAM}: {f.value}\n")
        else:
            sys.stderr.write(f"{PROGRAM}: {failure_text(f)}\n")

    def give_up():
        sys.stderr.write(f"{PROGRAM}: gave up after {TIME_LIMIT:.0f} s\n")
        status["code"] = 2
        reactor.stop()

    timer = reactor.callLater(TIME_LIMIT, give_up)

    def stop(_):
        if timer.active():
            timer.cancel()
            reactor.stop()

    d = run(port, user, password)
    d.addCallbacks(finished, failed)
    d.addBoth(stop)
    reactor.run()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
