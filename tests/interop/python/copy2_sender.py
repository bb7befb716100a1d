#!/usr/bin/env python3
"""The pb.Copyable howto's copy2_sender.py, ported to Python 3 / Twisted 26.10.

    copy2_sender.py [PORT] [--no-shutdown]

Sends a copy2_classes.SenderPond (3 frogs, 4 toads; its copied state is
{"frogsAndToads": 7}) to the root of the copy2 receiver on 127.0.0.1:PORT
(default 8800) with callRemote("takePond", pond), then calls shutdown() on
that root (unless --no-shutdown).  Exits 0 when the pond arrived, 2 when the
receiver refused it with InsecureJelly, 1 on any other failure or after 30
seconds.  Twisted's log goes to stderr.

Self-test (from the repository root):

    target/interop-venv/bin/python tests/interop/python/copy2_receiver.py 0 > /tmp/copy2_receiver.out 2> /tmp/copy2_receiver.err &
    sleep 1; PORT=$(sed -n 's/^listening on 127.0.0.1://p' /tmp/copy2_receiver.out)
    target/interop-venv/bin/python tests/interop/python/copy2_sender.py "$PORT"; echo "exit $?"
    wait; cat /tmp/copy2_receiver.out

prints (the sender's lines, its exit status, then the receiver's stdout; the
receiver exits 0; the address in the repr varies):

    count 7
    pond arrived safe and sound
    exit 0
    listening on 127.0.0.1:<port>
     got pond: <copy2_classes.ReceiverPond object at 0x7f...>
     count 7

The same with `copy2_receiver.py 0 --unregistered` (the receiver does not
import copy2_classes, so nothing is registered; it prints nothing after its
`listening on` line):

    count 7
    error during takePond:
     InsecureJelly
    exit 2

Differences from the howto's Python 2 program: the same as copy_sender.py's
(127.0.0.1:PORT, failure.check(jelly.InsecureJelly) instead of the always
false `failure.type == jelly.InsecureJelly`, shutdown() and an exit status
instead of a bare reactor.stop(), no "Main loop terminated." on stdout).
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("copy2_sender.py")

from twisted.internet import reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402

from copy2_classes import SenderPond  # noqa: E402

PROGRAM = "copy2_sender.py"


class Sender:
    def __init__(self, pond, shutdown):
        self.pond = pond
        self.shutdown = shutdown

    def got_obj(self, obj):
        self.remote = obj
        d = obj.callRemote("takePond", self.pond)
        d.addCallback(self.ok).addErrback(self.notOk)

    def ok(self, response):
        print("pond arrived", response, flush=True)
        peers.finish(0, self.remote, self.shutdown)

    def notOk(self, failure):
        return peers.take_pond_failed(failure, self.remote, self.shutdown)


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--no-shutdown"})
    pond = SenderPond(3, 4)
    print("count %d" % pond.count(), flush=True)
    sender = Sender(pond, "--no-shutdown" not in flags)
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    deferred = factory.getRootObject()
    deferred.addCallback(sender.got_obj).addErrback(peers.failed(PROGRAM, "getting the root object"))
    return peers.run_client(PROGRAM)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
