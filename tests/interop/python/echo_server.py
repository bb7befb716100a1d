#!/usr/bin/env python3
"""A minimal Perspective Broker server on real Twisted, for the Rust interop tests.

    echo_server.py [PORT]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
Its root object (one pb.Root shared by every connection) answers:

    echo(x)        -> x
    add(a, b)      -> a + b
    fail(msg)      -> raises ValueError(msg)
    shutdown()     -> None, then the reactor stops a moment later

The program exits 0 after a shutdown() call, or 1 if nobody called it within
120 seconds.  Diagnostics (Twisted's log) go to stderr.
"""

import sys

EXPECTED_TWISTED = "26.10.0"
DEFAULT_PORT = 8800
IDLE_LIMIT = 120.0

try:
    import twisted
except ImportError:
    sys.exit("echo_server.py: Twisted is not importable; run this with target/interop-venv/bin/python")
if twisted.__version__ != EXPECTED_TWISTED:
    sys.exit(f"echo_server.py: need Twisted {EXPECTED_TWISTED}, found {twisted.__version__}")

from twisted.internet import reactor  # noqa: E402
from twisted.python import log  # noqa: E402
from twisted.spread import pb  # noqa: E402


class EchoRoot(pb.Root):
    def remote_echo(self, x):
        return x

    def remote_add(self, a, b):
        return a + b

    def remote_fail(self, msg):
        raise ValueError(msg)

    def remote_shutdown(self):
        # Answer first; the answer is written before the reactor stops.
        status["code"] = 0
        reactor.callLater(0.1, reactor.stop)
        return None


status = {"code": 1}


def give_up():
    sys.stderr.write(f"echo_server.py: no shutdown() within {IDLE_LIMIT:.0f} s, exiting\n")
    status["code"] = 1
    reactor.stop()


def main(argv):
    port = int(argv[1]) if len(argv) > 1 else DEFAULT_PORT
    log.startLogging(sys.stderr, setStdout=False)
    listening = reactor.listenTCP(port, pb.PBServerFactory(EchoRoot()), interface="127.0.0.1")
    sys.stdout.write(f"listening on 127.0.0.1:{listening.getHost().port}\n")
    sys.stdout.flush()
    reactor.callLater(IDLE_LIMIT, give_up)
    reactor.run()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
