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
"""

import sys

EXPECTED_TWISTED = "26.10.0"
DEFAULT_PORT = 8800
IDLE_LIMIT = 120.0  # servers: seconds to wait for a shutdown() call
TIME_LIMIT = 30.0  # clients: seconds for the whole run

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


# ---------------------------------------------------------------------------
# Servers.


def shutdown_soon():
    """What a remote shutdown() does: exit status 0, reactor stopped 0.1 s later.

    The caller answers first; the answer is written before the reactor stops.
    """
    from twisted.internet import reactor

    _status["code"] = 0
    reactor.callLater(0.1, reactor.stop)


def serve(program, root, port, idle_limit=IDLE_LIMIT, unsafe_tracebacks=False):
    """Publishes `root` on 127.0.0.1:port until shutdown_soon() or idle_limit; the exit status.
    With unsafe_tracebacks, errors carry their traceback text (Twisted's unsafeTracebacks)."""
    from twisted.internet import reactor
    from twisted.python import log
    from twisted.spread import pb

    def give_up():
        sys.stderr.write(f"{program}: no shutdown() within {idle_limit:.0f} s, exiting\n")
        _status["code"] = 1
        reactor.stop()

    log.startLogging(sys.stderr, setStdout=False)
    factory = pb.PBServerFactory(root, unsafeTracebacks=unsafe_tracebacks)
    listening = reactor.listenTCP(port, factory, interface="127.0.0.1")
    sys.stdout.write(f"listening on 127.0.0.1:{listening.getHost().port}\n")
    sys.stdout.flush()
    reactor.callLater(idle_limit, give_up)
    reactor.run()
    return _status["code"]


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
