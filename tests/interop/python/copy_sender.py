#!/usr/bin/env python3
"""The pb.Copyable howto's copy_sender.py, ported to Python 3 / Twisted 26.10.

    copy_sender.py [PORT] [--no-shutdown]

Sends a copy_sender.CopyPond (green, 7 frogs) to the root of the copy
receiver on 127.0.0.1:PORT (default 8800) with callRemote("takePond", pond),
then calls shutdown() on that root (unless --no-shutdown).  Exits 0 when the
pond arrived, 2 when the receiver refused it with InsecureJelly, 1 on any
other failure or after 30 seconds.  Twisted's log goes to stderr.

Importing this module only defines LilyPond and CopyPond (copy_receiver.py
does); main() runs only when it is the program.

Self-test (from the repository root):

    target/interop-venv/bin/python tests/interop/python/copy_receiver.py 0 > /tmp/copy_receiver.out 2> /tmp/copy_receiver.err &
    sleep 1; PORT=$(sed -n 's/^listening on 127.0.0.1://p' /tmp/copy_receiver.out)
    target/interop-venv/bin/python tests/interop/python/copy_sender.py "$PORT"; echo "exit $?"
    wait; cat /tmp/copy_receiver.out

prints (the sender's lines, its exit status, then the receiver's stdout; the
receiver exits 0; the address in the repr varies):

    7 frogs
    copy_sender.CopyPond
    pond arrived safe and sound
    exit 0
    listening on 127.0.0.1:<port>
     got pond: <__main__.ReceiverPond object at 0x7f...>
    7 frogs

The same with `copy_receiver.py 0 --unregistered` (no setUnjellyableForClass
on the receiver, which prints nothing after its `listening on` line):

    7 frogs
    copy_sender.CopyPond
    error during takePond:
     InsecureJelly
    exit 2

Differences from the howto's Python 2 program:
  - connects to 127.0.0.1:PORT instead of localhost:8800;
  - failure.type of a remote failure (a CopiedFailure) is the class name as
    bytes (b"twisted.spread.jelly.InsecureJelly"), never the class
    jelly.InsecureJelly, so the howto's `failure.type == jelly.InsecureJelly`
    is always false; the test is failure.check(jelly.InsecureJelly);
  - reactor.stop() becomes peers.finish(), which first calls shutdown() on
    the receiver and sets the exit status;
  - old Twisted printed "Main loop terminated." on stdout; 26.10 logs it to
    stderr (where this program sends Twisted's log).
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("copy_sender.py")

from twisted.internet import reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402

PROGRAM = "copy_sender.py"


class LilyPond:
    def setStuff(self, color, numFrogs):
        self.color = color
        self.numFrogs = numFrogs

    def countFrogs(self):
        print("%d frogs" % self.numFrogs, flush=True)


class CopyPond(LilyPond, pb.Copyable):
    pass


class Sender:
    def __init__(self, pond, shutdown):
        self.pond = pond
        self.shutdown = shutdown

    def got_obj(self, remote):
        self.remote = remote
        d = remote.callRemote("takePond", self.pond)
        d.addCallback(self.ok).addErrback(self.notOk)

    def ok(self, response):
        print("pond arrived", response, flush=True)
        peers.finish(0, self.remote, self.shutdown)

    def notOk(self, failure):
        return peers.take_pond_failed(failure, self.remote, self.shutdown)


def main(argv):
    port, flags = peers.parse_args(PROGRAM, argv, {"--no-shutdown"})
    from copy_sender import CopyPond  # so it's not __main__.CopyPond

    pond = CopyPond()
    pond.setStuff("green", 7)
    pond.countFrogs()
    # class name:
    print(".".join([pond.__class__.__module__, pond.__class__.__name__]), flush=True)
    sender = Sender(pond, "--no-shutdown" not in flags)
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    deferred = factory.getRootObject()
    deferred.addCallback(sender.got_obj).addErrback(peers.failed(PROGRAM, "getting the root object"))
    return peers.run_client(PROGRAM)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
