#!/usr/bin/env python3
"""The pb.Cacheable howto's cache_sender.py, ported to Python 3 / Twisted 26.10.

    cache_sender.py [PORT] [--no-shutdown]

Sends a cache_classes.MasterDuckPond (["one duck", "two duck"]) to the root
of the cache receiver on 127.0.0.1:PORT (default 8800) and goes through the
howto's phases:

    phase1  takePond(pond)            the receiver builds its SlaveDuckPond
    phase2  addDuck("ugly duckling")  (sent to the cache), count(); 1 s later
    phase3  checkDucks()
    phase4  removeDuck("one duck")    (sent to the cache), count(),
            checkDucks(), ignorePond()
    phase5  once ignorePond() answered: shutdown() (unless --no-shutdown)
    phase6  stop

The receiver's ignorePond() drops its cache, so the sender's
MasterDuckPond.stoppedObserving runs and prints "stoppedObserving" (the
decache message comes before the answer to ignorePond()).  Exits 0 when
everything answered and stoppedObserving ran (phase5 waits up to 5 s for
it), 2 when the receiver refused the pond with InsecureJelly, 1 on any other
failure or after 30 seconds.  Twisted's log goes to stderr.

Self-test (from the repository root):

    target/interop-venv/bin/python tests/interop/python/cache_receiver.py 0 > /tmp/cache_receiver.out 2> /tmp/cache_receiver.err &
    sleep 1; PORT=$(sed -n 's/^listening on 127.0.0.1://p' /tmp/cache_receiver.out)
    target/interop-venv/bin/python tests/interop/python/cache_sender.py "$PORT"; echo "exit $?"
    wait; cat /tmp/cache_receiver.out

prints (the sender's lines, its exit status, then the receiver's stdout; the
receiver exits 0; the address in the repr varies; note the two spaces after
"ducks:"):

    I have [2] ducks
    I have [3] ducks
    I have [2] ducks
    stoppedObserving
    exit 0
    listening on 127.0.0.1:<port>
     cache - sitting, er, setting ducks
    got pond: <cache_classes.SlaveDuckPond object at 0x7f...>
    [2] ducks:  ['one duck', 'two duck']
     cache - addDuck
    [3] ducks:  ['one duck', 'two duck', 'ugly duckling']
     cache - removeDuck
    [2] ducks:  ['two duck', 'ugly duckling']
    dropping pond

The same with `cache_receiver.py 0 --unregistered` (the receiver does not
import cache_classes, so nothing is registered; it prints nothing after its
`listening on` line):

    I have [2] ducks
    error during takePond:
     InsecureJelly
    stoppedObserving
    exit 2

There stoppedObserving comes from the connection's end (Twisted's
Broker.connectionLost calls it for every Cacheable it still counts as cached
by the peer): the sender registered its observer while jellying the pond,
before the receiver refused it, and no decache ever comes.

Differences from the howto's Python 2 program:
  - connects to 127.0.0.1:PORT instead of localhost:8800;
  - the howto sends takePond's failure to log.err; here it goes to notOk, as
    in copy_sender.py (prints "error during takePond:" and " InsecureJelly",
    exit status 2), and the other calls' failures end the run with status 1;
  - phase5 waits for stoppedObserving before calling shutdown() (unless
    --no-shutdown), and phase6 sets the exit status;
  - old Twisted printed "Main loop terminated." on stdout; 26.10 logs it to
    stderr (where this program sends Twisted's log).
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("cache_sender.py")

from twisted.internet import reactor, task  # noqa: E402
from twisted.spread import pb  # noqa: E402

from cache_classes import MasterDuckPond  # noqa: E402

PROGRAM = "cache_sender.py"
STOPPED_OBSERVING_LIMIT = 5.0  # seconds phase5 waits for stoppedObserving


class Sender:
    def __init__(self, pond, shutdown):
        self.pond = pond
        self.shutdown = shutdown

    def phase1(self, remote):
        self.remote = remote
        d = remote.callRemote("takePond", self.pond)
        d.addCallback(self.phase2).addErrback(self.notOk)

    def notOk(self, failure):
        return peers.take_pond_failed(failure, self.remote, self.shutdown)

    def phase2(self, response):
        self.pond.addDuck("ugly duckling")
        self.pond.count()
        reactor.callLater(1, self.phase3)

    def phase3(self):
        d = self.remote.callRemote("checkDucks")
        d.addCallback(self.phase4).addErrback(peers.failed(PROGRAM, "checkDucks() or phase4"))

    def phase4(self, dummy):
        self.pond.removeDuck("one duck")
        self.pond.count()
        self.remote.callRemote("checkDucks").addErrback(peers.failed(PROGRAM, "checkDucks()"))
        d = self.remote.callRemote("ignorePond")
        d.addCallback(self.phase5).addErrback(peers.failed(PROGRAM, "ignorePond() or phase5"))

    def phase5(self, dummy):
        # stoppedObserving removes the receiver's observer.
        waited = {"s": 0.0}

        def check():
            if not self.pond.observers:
                poll.stop()
                self.phase6(0)
            elif waited["s"] >= STOPPED_OBSERVING_LIMIT:
                poll.stop()
                sys.stderr.write(f"{PROGRAM}: no stoppedObserving within {STOPPED_OBSERVING_LIMIT:.0f} s\n")
                self.phase6(1)
            waited["s"] += 0.05

        poll = task.LoopingCall(check)
        poll.start(0.05)

    def phase6(self, code):
        # shutdown() on the receiver unless --no-shutdown, then reactor.stop()
        peers.finish(code, self.remote, self.shutdown)


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--no-shutdown"})
    master = MasterDuckPond(["one duck", "two duck"])
    master.count()
    sender = Sender(master, "--no-shutdown" not in flags)
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    deferred = factory.getRootObject()
    deferred.addCallback(sender.phase1).addErrback(peers.failed(PROGRAM, "getting the root object"))
    return peers.run_client(PROGRAM)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
