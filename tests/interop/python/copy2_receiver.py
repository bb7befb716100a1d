#!/usr/bin/env python3
"""The pb.Copyable howto's copy2_receiver.py, ported to Python 3 / Twisted 26.10.

    copy2_receiver.py [PORT] [--unregistered]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout first.  Its root answers:

    takePond(pond)  prints " got pond: <pond>" and " count <pond.count()>"
                    (" count 7" for copy2_sender.py's pond), answers
                    "safe and sound"
    shutdown()      -> None, then the reactor stops a moment later

Importing copy2_classes registers its ReceiverPond for
copy2_classes.SenderPond; with --unregistered it is not imported, so a pond
is refused with InsecureJelly.  Every stdout line is flushed.  Exits 0 after
a shutdown() call, 1 if nobody called it within 120 seconds.  Twisted's log
goes to stderr.  See copy2_sender.py for the self-test and its output.

Differences from the howto's program (run by `twistd -n -y`):
  - a program with a main() instead of an Application for twistd; it
    listens on 127.0.0.1 only, on the given port;
  - the howto's output shows the pond as
    `<copy2_classes.ReceiverPond instance at 0x...>`; Python 3 prints
    `<copy2_classes.ReceiverPond object at 0x...>`;
  - twistd prefixed each printed line with the log context
    ("[Broker,0,127.0.0.1] "); here the lines go to stdout as printed;
  - shutdown() stops the reactor 0.1 s after answering instead of at once,
    so that the answer reaches the sender.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("copy2_receiver.py")

from twisted.spread import pb  # noqa: E402

PROGRAM = "copy2_receiver.py"


class Receiver(pb.Root):
    def remote_takePond(self, pond):
        print(" got pond:", pond, flush=True)
        print(" count %d" % pond.count(), flush=True)
        return "safe and sound"  # positive acknowledgement

    def remote_shutdown(self):
        peers.shutdown_soon()


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--unregistered"})
    if "--unregistered" not in flags:
        import copy2_classes  # noqa: F401  needed to get ReceiverPond registered with Jelly
    return peers.serve(PROGRAM, Receiver(), port)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
