#!/usr/bin/env python3
"""The pb.Copyable howto's copy_receiver.tac as a Python 3 program (Twisted 26.10).

    copy_receiver.py [PORT] [--unregistered]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout first.  Its root answers:

    takePond(pond)  prints " got pond: <pond>", then the pond's countFrogs()
                    line ("7 frogs" for copy_sender.py's pond), answers
                    "safe and sound"
    shutdown()      -> None, then the reactor stops a moment later

ReceiverPond is registered (setUnjellyableForClass) as the local class for
copy_sender.CopyPond, unless --unregistered is given: then a pond is refused
with InsecureJelly.  Every stdout line is flushed.  Exits 0 after a
shutdown() call, 1 if nobody called it within 120 seconds.  Twisted's log
goes to stderr.  See copy_sender.py for the self-test and its output.

Differences from the howto's .tac (run by `twistd -ny`):
  - a program with a main() instead of an Application for twistd; it
    listens on 127.0.0.1 only, on the given port;
  - the howto's output shows the pond as
    `<__builtin__.ReceiverPond instance at 0x...>` (a classic instance of a
    class defined in the .tac's namespace); here it is
    `<__main__.ReceiverPond object at 0x...>`;
  - twistd prefixed each printed line with the log context
    ("[Broker,0,127.0.0.1] "); here the lines go to stdout as printed;
  - shutdown() stops the reactor 0.1 s after answering instead of at once,
    so that the answer reaches the sender.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("copy_receiver.py")

from twisted.spread import pb  # noqa: E402

from copy_sender import CopyPond, LilyPond  # noqa: E402

PROGRAM = "copy_receiver.py"


class ReceiverPond(pb.RemoteCopy, LilyPond):
    pass


class Receiver(pb.Root):
    def remote_takePond(self, pond):
        print(" got pond:", pond, flush=True)
        pond.countFrogs()
        return "safe and sound"  # positive acknowledgement

    def remote_shutdown(self):
        peers.shutdown_soon()


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--unregistered"})
    if "--unregistered" not in flags:
        pb.setUnjellyableForClass(CopyPond, ReceiverPond)
    return peers.serve(PROGRAM, Receiver(), port)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
