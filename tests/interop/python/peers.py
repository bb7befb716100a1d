"""What the Python PB programs in this directory have in common.

Servers and receivers (echo_server.py, pb_server.py, copy_receiver.py,
copy2_receiver.py, cache_receiver.py):

    peers.require_twisted("x.py")    before importing anything from Twisted
    port, flags = peers.parse_args("x.py", argv, {"--flag"})
    sys.exit(peers.serve("x.py", root, port))

serve() listens on 127.0.0.1:port (0 picks a free port), prints
`listening on 127.0.0.1:<real port>` on stdout (flushed) once connections
are accepted, sends Twisted's log to stderr and runs the reactor.  A remote
shutdown() calls peers.shutdown_soon(): the answer goes out, the reactor
stops 0.1 s later and serve() returns 0.  Without a shutdown() within
IDLE_LIMIT seconds it gives up and returns 1.

Clients and senders (copy_sender.py, copy2_sender.py, cache_sender.py):

    port, flags = peers.parse_args("x.py", argv, {"--no-shutdown"})
    ... connect, add callbacks that end with peers.finish(code, root, shutdown) ...
    sys.exit(peers.run_client("x.py"))

finish() records the exit status, calls shutdown() on the peer's root first
when asked to (a failure there makes the status 1), then stops the reactor.
run_client() runs the reactor and returns the status; it gives up with 1
after TIME_LIMIT seconds.  peers.failed("x.py", what) is an errback that
reports an unexpected failure on stderr and finishes with 1.

The login servers (login_server.py, cred_server.py) stop when their stdin,
a pipe, is closed:

    sys.exit(peers.serve_until_eof("x.py", lambda: reactor.listenTCP(...)))

with avatars `class User(peers.MindAvatar, pb.Avatar)` (whoami, echo,
callMeBack) and peers.realm(User) as the portal's realm.  login_server.py
and login_client.py load their TLS certificates with load_certificates()
and load_private_certificate().

The clients that print what they see (echo_client.py, login_client.py) and
the check clients (pb_client.py, cred_client.py) share say(), outcome(),
failure_text() and run_until_done() (the reactor run with a time limit);
the check clients also the `ok NAME` / `FAIL NAME: detail` bookkeeping:
Tally, run_one(), run_checks(), and call(), answer(), expect().
"""

import functools
import os
import re
import stat
import sys

EXPECTED_TWISTED = "26.10.0"
DEFAULT_PORT = 8800
IDLE_LIMIT = 120.0  # servers: seconds to wait for a shutdown() call
TIME_LIMIT = 30.0  # clients: seconds for the whole run
CALL_LIMIT = 10.0  # check clients: seconds for one call

# The exit status of serve() / run_client(): 1 until something says otherwise.
_status = {"code": 1}


def require_twisted(program):
    """Exits with a message naming `program` unless Twisted EXPECTED_TWISTED is importable."""
    try:
        import twisted
    except ImportError:
        sys.exit(f"{program}: Twisted is not importable; run this with target/interop-venv/bin/python")
    if twisted.__version__ != EXPECTED_TWISTED:
        sys.exit(f"{program}: need Twisted {EXPECTED_TWISTED}, found {twisted.__version__}")


def parse_args(program, argv, flags=()):
    """(port, set of flags given) from `PROGRAM [PORT] [FLAG...]`, in any order."""
    port = DEFAULT_PORT
    given = set()
    positional = []
    for arg in argv[1:]:
        if arg.startswith("--"):
            if arg not in flags:
                known = " ".join(sorted(flags)) or "none"
                sys.exit(f"{program}: unknown option {arg} (known: {known})")
            given.add(arg)
        else:
            positional.append(arg)
    if len(positional) > 1:
        sys.exit(f"{program}: expected at most one argument, the port; got {positional}")
    if positional:
        try:
            port = int(positional[0])
        except ValueError:
            sys.exit(f"{program}: the port must be a number, not {positional[0]!r}")
    return port, given


def say(line):
    """Prints `line` on stdout, flushed."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Servers.


def shutdown_soon():
    """What a remote shutdown() does: exit status 0, reactor stopped 0.1 s later.

    The caller answers first; the answer is written before the reactor stops.
    """
    from twisted.internet import reactor

    _status["code"] = 0
    reactor.callLater(0.1, reactor.stop)


def serve(program, root, port, idle_limit=IDLE_LIMIT, unsafe_tracebacks=False, backlog=50):
    """Publishes `root` on 127.0.0.1:port until shutdown_soon() or idle_limit
    (None: no limit); the exit status. With unsafe_tracebacks, errors carry
    their traceback text (Twisted's unsafeTracebacks); backlog is listen()'s
    (Twisted's default, 50, unless given)."""
    from twisted.internet import reactor
    from twisted.spread import pb

    def listen():
        factory = pb.PBServerFactory(root, unsafeTracebacks=unsafe_tracebacks)
        return reactor.listenTCP(port, factory, backlog=backlog, interface="127.0.0.1")

    give_up = f"{program}: no shutdown() within {idle_limit:.0f} s, exiting\n" if idle_limit is not None else ""
    return _run_server(listen, idle_limit, give_up)


def serve_until_eof(program, listen, lifetime=IDLE_LIMIT):
    """Runs a server whose listen() gives its listening port until its stdin,
    when it is a pipe, is closed (exit status 0; a terminal or /dev/null is
    not watched), or until `lifetime` seconds (exit status 1)."""
    return _run_server(listen, lifetime, f"{program}: still running after {lifetime:.0f} s, exiting\n", stdin=True)


def _run_server(listen, limit, give_up_message, stdin=False):
    """Twisted's log to stderr, listen(), the `listening on` line, the reactor
    run until something stops it or `limit` seconds; the exit status."""
    from twisted.internet import reactor
    from twisted.python import log

    def give_up():
        sys.stderr.write(give_up_message)
        _status["code"] = 1
        reactor.stop()

    log.startLogging(sys.stderr, setStdout=False)
    listening = listen()
    say(f"listening on 127.0.0.1:{listening.getHost().port}")
    if stdin:
        watch_stdin()
    timer = None if limit is None else reactor.callLater(limit, give_up)
    reactor.run()
    if timer is not None and timer.active():
        timer.cancel()
    return _status["code"]


def watch_stdin():
    """When stdin is a pipe (or a socket), stops the reactor with exit status 0
    once it reaches EOF or hangs up."""
    from twisted.internet import reactor
    from twisted.internet.interfaces import IReadDescriptor
    from twisted.internet.main import CONNECTION_DONE
    from zope.interface import implementer

    @implementer(IReadDescriptor)
    class StdinWatch:
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
            _status["code"] = 0
            if reactor.running:
                reactor.stop()

    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        reactor.addReader(StdinWatch())


class MindAvatar:
    """What the login servers' avatars have in common (mixed into a
    pb.Avatar): the avatar's name and the mind given at login (a remote
    reference, or None), and the perspective methods whoami(), echo(x) and
    callMeBack(x) (the mind's answer to hello(x); None without a mind)."""

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


def avatar_name(avatar_id):
    """The name of a cred avatar id: "anonymous" for checkers.ANONYMOUS, the
    username as the client sent it (bytes) decoded, else str()."""
    from twisted.cred import checkers

    if avatar_id == checkers.ANONYMOUS:
        return "anonymous"
    if isinstance(avatar_id, bytes):
        return avatar_id.decode("utf-8")
    return str(avatar_id)


def realm(avatar_class):
    """A portal.IRealm making a new avatar_class(name, mind) for every
    pb.IPerspective login: it prints `login <name>`, and its logout callable
    (which Twisted calls when the connection is lost) `logout <name>`."""
    from twisted.cred import portal
    from twisted.spread import pb
    from zope.interface import implementer

    @implementer(portal.IRealm)
    class Realm:
        def requestAvatar(self, avatarId, mind, *interfaces):
            if pb.IPerspective not in interfaces:
                raise NotImplementedError("only pb.IPerspective")
            name = avatar_name(avatarId)
            say(f"login {name}")
            return pb.IPerspective, avatar_class(name, mind), lambda: say(f"logout {name}")

    return Realm()


# ---------------------------------------------------------------------------
# TLS certificates (PEM files).

PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def tls_options_or_exit(program, make_options, tls):
    """None without TLS (tls None), else make_options(*tls); when that fails
    (certificates that cannot be loaded), exits 1 with a message on stderr."""
    if tls is None:
        return None
    try:
        return make_options(*tls)
    except Exception as e:
        sys.stderr.write(f"{program}: cannot load the TLS certificates: {type(e).__name__}: {e}\n")
        sys.exit(1)


def load_certificates(path):
    """ssl.Certificate for every certificate in the PEM file `path` (trust roots); ValueError if none."""
    from twisted.internet import ssl

    with open(path, "rb") as f:
        roots = [ssl.Certificate.loadPEM(c) for c in PEM_CERTIFICATE.findall(f.read())]
    if not roots:
        raise ValueError(f"no certificate in {path}")
    return roots


def load_private_certificate(cert_path, key_path):
    """(ssl.PrivateCertificate of CERT_PATH's first certificate with KEY_PATH's
    private key, the rest of CERT_PATH as OpenSSL certificates: the chain sent
    after it)."""
    from OpenSSL import crypto
    from twisted.internet import ssl

    with open(cert_path, "rb") as f:
        chain = PEM_CERTIFICATE.findall(f.read())
    with open(key_path, "rb") as f:
        key = f.read()
    if not chain:
        raise ValueError(f"no certificate in {cert_path}")
    leaf = ssl.PrivateCertificate.loadPEM(chain[0] + b"\n" + key)
    return leaf, [crypto.load_certificate(crypto.FILETYPE_PEM, c) for c in chain[1:]]


# ---------------------------------------------------------------------------
# Clients.


def _stop():
    from twisted.internet import reactor

    if reactor.running:
        reactor.stop()


def finish(code, root=None, shutdown=False):
    """Ends a client run with `code`, after calling shutdown() on `root` if asked to."""
    _status["code"] = code
    if not (shutdown and root is not None):
        _stop()
        return

    def shutdown_failed(f):
        sys.stderr.write(f"shutdown() failed: {f.getErrorMessage()}\n")
        _status["code"] = 1

    d = root.callRemote("shutdown")
    d.addErrback(shutdown_failed)
    d.addBoth(lambda _: _stop())


def take_pond_failed(failure, root, shutdown):
    """The howto senders' takePond errback: prints the howto's lines and ends
    the run with 2 for InsecureJelly (the receiver registered nothing), 1 else."""
    from twisted.spread import jelly

    print("error during takePond:", flush=True)
    if failure.check(jelly.InsecureJelly):
        print(" InsecureJelly", flush=True)
        finish(2, root, shutdown)
    else:
        print(failure, flush=True)
        finish(1, root, shutdown)
    return None


def failed(program, what):
    """An errback: reports the failure on stderr and ends the run with status 1."""

    def errback(f):
        sys.stderr.write(f"{program}: {what} failed: {f.getErrorMessage()}\n")
        finish(1)

    return errback


def run_client(program, time_limit=TIME_LIMIT):
    """Runs the reactor (Twisted's log to stderr) until finish() or time_limit; the exit status."""
    from twisted.internet import reactor
    from twisted.python import log

    def give_up():
        sys.stderr.write(f"{program}: gave up after {time_limit:.0f} s\n")
        _status["code"] = 1
        _stop()

    log.startLogging(sys.stderr, setStdout=False)
    timer = reactor.callLater(time_limit, give_up)
    reactor.run()
    if timer.active():
        timer.cancel()
    return _status["code"]


def run_until_done(start, time_limit, give_up, callback=None, errback=None):
    """Runs the reactor until the Deferred that start() gives has fired (its
    result going through callback/errback first), or for time_limit seconds:
    then give_up() is called and the reactor stopped."""
    from twisted.internet import reactor

    def timed_out():
        give_up()
        reactor.stop()

    timer = reactor.callLater(time_limit, timed_out)

    def stop(_):
        if timer.active():
            timer.cancel()
            reactor.stop()

    d = start()
    if callback is not None or errback is not None:
        d.addCallbacks(callback or (lambda result: result), errback)
    d.addBoth(stop)
    reactor.run()


def outcome(d):
    """A Deferred firing with (True, result) or (False, Failure); never errbacks."""
    return d.addCallbacks(lambda r: (True, r), lambda f: (False, f))


def failure_type(f):
    """The exception's qualified name: a CopiedFailure carries it as bytes."""
    from twisted.python.reflect import qual

    t = f.type
    if isinstance(t, bytes):
        return t.decode("utf-8", "replace")
    if isinstance(t, str):
        return t
    return qual(t)


def failure_text(f):
    """`<type>: <message>` of a Failure, remote (CopiedFailure) or local."""
    return f"{failure_type(f)}: {f.value}"


# ---------------------------------------------------------------------------
# Check clients (pb_client.py, cred_client.py): each check prints one line,
# `ok NAME` or `FAIL NAME: detail`, and the last line is `N passed, M failed`.


def _inline_callbacks(generator_function):
    """defer.inlineCallbacks, applied at the first call: this module is
    imported before require_twisted() has made sure Twisted is there."""
    wrapped = None

    @functools.wraps(generator_function)
    def call(*args, **kw):
        nonlocal wrapped
        if wrapped is None:
            from twisted.internet import defer

            wrapped = defer.inlineCallbacks(generator_function)
        return wrapped(*args, **kw)

    return call


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.current = None
        self.closed = False  # after giving up, what the shutdown stirs up is not reported

    def ok(self, name):
        if self.closed:
            return
        self.passed += 1
        say(f"ok {name}")

    def fail(self, name, detail):
        if self.closed:
            return
        self.failed += 1
        detail = " ".join(str(detail).split())
        say(f"FAIL {name}: {detail}")

    def summary(self):
        say(f"{self.passed} passed, {self.failed} failed")


class Problem(Exception):
    """A check's expectation that did not hold."""


def expect(cond, detail):
    if not cond:
        raise Problem(detail)


def show(x):
    """repr() for details; a Failure as its type and message (repr() of a
    CopiedFailure raises in Twisted 26.10, its type being bytes)."""
    from twisted.python import failure

    if isinstance(x, failure.Failure):
        return f"<failure {failure_text(x)}>"
    return repr(x)


def settle(d, limit=CALL_LIMIT):
    """A Deferred firing with (True, result) or (False, Failure), within `limit` s."""
    from twisted.internet import reactor

    d.addTimeout(limit, reactor)
    return outcome(d)


def call(ref, name, *args, limit=CALL_LIMIT, **kw):
    """callRemote, with a synchronous exception turned into a failed outcome."""
    from twisted.internet import defer

    return settle(defer.maybeDeferred(ref.callRemote, name, *args, **kw), limit)


@_inline_callbacks
def answer(ref, name, *args, **kw):
    """The answer of a call that must succeed (else Problem)."""
    ok, got = yield call(ref, name, *args, **kw)
    if not ok:
        raise Problem(f"{name}() failed: {failure_text(got)}")
    return got


@_inline_callbacks
def run_one(tally, name, fn, *args):
    """Runs the check fn(*args) (a Deferred, or a synchronous Problem) and tallies it as `name`."""
    from twisted.python.reflect import qual

    tally.current = name
    try:
        yield fn(*args)
    except Problem as e:
        tally.fail(name, e)
    except Exception as e:
        tally.fail(name, f"{qual(type(e))}: {e}")
    else:
        tally.ok(name)
    tally.current = None


def run_checks(start, time_limit):
    """Runs the reactor while start(tally) (a Deferred) runs the checks, or
    for time_limit seconds (the check under way fails); prints the summary.
    The exit status: 0 iff something passed and nothing failed."""
    tally = Tally()

    def give_up():
        tally.fail(tally.current or "timeout", f"gave up after {time_limit:.0f} s in total")
        tally.closed = True

    def crashed(f):
        tally.fail(tally.current or "internal", failure_text(f))

    run_until_done(lambda: start(tally), time_limit, give_up, errback=crashed)
    tally.summary()
    return 0 if tally.failed == 0 and tally.passed > 0 else 1
