#!/usr/bin/env python3
"""A minimal Perspective Broker server on real Twisted, for the Rust interop tests.

    echo_server.py [PORT] [--load] [--wrong-echo]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout once connections are accepted.
Its root object (one pb.Root shared by every connection) answers:

    echo(x)        -> x
    add(a, b)      -> a + b
    fail(msg)      -> raises ValueError(msg)
    shutdown()     -> None, then the reactor stops a moment later

The program exits 0 after a shutdown() call, or 1 if nobody called it within
120 seconds.  Diagnostics (Twisted's log) go to stderr.

--load (for `cargo xtask load`): a listen backlog of 1024 instead of Twisted's
50, so that a thousand clients connecting at once are not turned away, and
no time limit (the load run stops the server).

--wrong-echo (for the tests of `spread bench`'s checks): echo answers wrongly
to every tenth call, [x] instead of x.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("echo_server.py")

from twisted.spread import pb  # noqa: E402


class EchoRoot(pb.Root):
    def __init__(self, wrong_echo=False):
        self.wrong_echo = wrong_echo
        self.echoes = 0

    def remote_echo(self, x):
        self.echoes += 1
        if self.wrong_echo and self.echoes % 10 == 0:
            return [x]
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
    port, flags = peers.parse_args("echo_server.py", argv, {"--load", "--wrong-echo"})
    root = EchoRoot(wrong_echo="--wrong-echo" in flags)
    if "--load" in flags:
        return peers.serve("echo_server.py", root, port, idle_limit=None, backlog=1024)
    return peers.serve("echo_server.py", root, port)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
