#!/usr/bin/env python3
"""A minimal Perspective Broker client on real Twisted, for the Rust interop tests.

    echo_client.py [PORT]

Connects to 127.0.0.1:PORT (default 8800), gets the root object and calls,
in order, printing one line per call on stdout:

    echo("hello")                                   echo -> 'hello'
    echo([1, "two", 3.0, None, True, {"k": b"v"}])  echo -> [1, 'two', ...]
    add(2, 3)                                       add -> 5
    add(2**70, 5)                                   add -> 1180591620717411303429
    fail("boom")                                    fail -> error builtins.ValueError: boom
    shutdown()                                      shutdown -> None

Exits 0 when every call gave what was expected, 1 otherwise (including a
failed connection or no progress within 30 seconds).  Self-test:

    target/interop-venv/bin/python tests/interop/python/echo_server.py 0
    target/interop-venv/bin/python tests/interop/python/echo_client.py <port>
"""

import sys

import peers  # this directory is sys.path[0] when run as a script

PROGRAM = "echo_client.py"

peers.require_twisted(PROGRAM)

from peers import failure_text, outcome, say  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402


@defer.inlineCallbacks
def run(port):
    problems = []
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory, timeout=10)
    root = yield factory.getRootObject()

    for sent in ("hello", [1, "two", 3.0, None, True, {"k": b"v"}]):
        ok, got = yield outcome(root.callRemote("echo", sent))
        if ok:
            say(f"echo -> {got!r}")
            if got != sent or type(got) is not type(sent):
                problems.append(f"echo({sent!r}) gave {got!r}")
        else:
            say(f"echo -> error {failure_text(got)}")
            problems.append(f"echo({sent!r}) failed")

    ok, got = yield outcome(root.callRemote("add", 2, 3))
    say(f"add -> {got!r}" if ok else f"add -> error {failure_text(got)}")
    if not ok or got != 5:
        problems.append("add(2, 3) was not 5")

    # Python's ints have no size: neither may the server's sum.
    ok, got = yield outcome(root.callRemote("add", 2**70, 5))
    say(f"add -> {got!r}" if ok else f"add -> error {failure_text(got)}")
    if not ok or got != 2**70 + 5:
        problems.append("add(2**70, 5) was not 2**70 + 5")

    ok, got = yield outcome(root.callRemote("fail", "boom"))
    if ok:
        say(f"fail -> {got!r}")
        problems.append("fail('boom') did not fail")
    else:
        text = failure_text(got)
        say(f"fail -> error {text}")
        if text != "builtins.ValueError: boom":
            problems.append(f"fail('boom') failed with {text!r}")

    ok, got = yield outcome(root.callRemote("shutdown"))
    say(f"shutdown -> {got!r}" if ok else f"shutdown -> error {failure_text(got)}")
    if not ok or got is not None:
        problems.append("shutdown() did not answer None")

    factory.disconnect()
    return problems


def main(argv):
    port = int(argv[1]) if len(argv) > 1 else peers.DEFAULT_PORT
    status = {"code": 1}

    def finished(problems):
        for p in problems:
            sys.stderr.write(f"{PROGRAM}: {p}\n")
        status["code"] = 1 if problems else 0

    def crashed(f):
        sys.stderr.write(f"{PROGRAM}: {failure_text(f)}\n")

    def give_up():
        sys.stderr.write(f"{PROGRAM}: gave up after {peers.TIME_LIMIT:.0f} s\n")

    peers.run_until_done(lambda: run(port), peers.TIME_LIMIT, give_up, finished, crashed)
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
