#!/usr/bin/env python3
"""The pb.Cacheable howto's cache_receiver.py, ported to Python 3 / Twisted 26.10.

    cache_receiver.py [PORT] [--unregistered]

Listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) and prints
`listening on 127.0.0.1:<real port>` on stdout first.  Its root answers:

    takePond(pond)  keeps the pond (a cache_classes.SlaveDuckPond), prints
                    "got pond: <pond>" and does checkDucks(); answers None
    checkDucks()    prints "[<count>] ducks:  <list of ducks>"; answers None
    ignorePond()    prints "dropping pond" and forgets the pond: its
                    RemoteCache goes away, which sends a decache to the
                    sender, whose MasterDuckPond.stoppedObserving runs
                    (before the answer to ignorePond reaches the sender)
    shutdown()      -> None, then the reactor stops a moment later

Importing cache_classes registers SlaveDuckPond for
cache_classes.MasterDuckPond (and prints SlaveDuckPond's " cache - ..."
lines); with --unregistered it is not imported, so a pond is refused with
InsecureJelly.  Every stdout line is flushed.  Exits 0 after a shutdown()
call, 1 if nobody called it within 120 seconds.  Twisted's log goes to
stderr.  See cache_sender.py for the self-test and its output.

Differences from the howto's program (run by `twistd -n -y`):
  - a program with a main() instead of an Application for twistd; it
    listens on 127.0.0.1 only, on the given port;
  - the howto's output shows the pond as
    `<cache_classes.SlaveDuckPond instance at 0x...>`; Python 3 prints
    `<cache_classes.SlaveDuckPond object at 0x...>`;
  - "[%d] ducks: " is printed followed by the list as a second item; Python
    2's print statement put a space before that item (the string ends with
    a space, which still sets the soft space), and so does Python 3's
    print(), so the line has two spaces after "ducks:" (the howto's page
    shows one: HTML collapses runs of spaces);
  - twistd prefixed each printed line with the log context
    ("[Broker,0,127.0.0.1] "); here the lines go to stdout as printed;
  - shutdown() stops the reactor 0.1 s after answering instead of at once,
    so that the answer reaches the sender.
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("cache_receiver.py")

from twisted.spread import pb  # noqa: E402

PROGRAM = "cache_receiver.py"


class Receiver(pb.Root):
    def remote_takePond(self, pond):
        self.pond = pond
        print("got pond:", pond, flush=True)  # a DuckPondCache
        self.remote_checkDucks()

    def remote_checkDucks(self):
        print("[%d] ducks: " % self.pond.count(), self.pond.getDucks(), flush=True)

    def remote_ignorePond(self):
        # stop watching the pond
        print("dropping pond", flush=True)
        # gc causes __del__ causes 'decache' msg causes stoppedObserving
        # (in CPython the reference count drops to zero right here)
        self.pond = None

    def remote_shutdown(self):
        peers.shutdown_soon()


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--unregistered"})
    if "--unregistered" not in flags:
        import cache_classes  # noqa: F401  registers SlaveDuckPond with Jelly
    return peers.serve(PROGRAM, Receiver(), port)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
