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

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("echo_server.py")

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
        peers.shutdown_soon()
        return None


def main(argv):
    port, _ = peers.parse_args("echo_server.py", argv)
    return peers.serve("echo_server.py", EchoRoot(), port)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
