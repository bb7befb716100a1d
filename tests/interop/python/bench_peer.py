#!/usr/bin/env python3
"""Twisted's side of `cargo xtask bench`'s end-to-end scenarios: a PB server
and a PB client on real Twisted 26.10, speaking the same protocol as the
Rust examples bench_server and bench_client, so that any client can drive
any server.

    bench_peer.py server [PORT]
    bench_peer.py client PORT SCENARIO [--in-flight K] [--connections C] [--seconds S]

server: listens on 127.0.0.1:PORT (default 8800; 0 picks a free port) with a
listen backlog of 1024, prints `listening on 127.0.0.1:<real port>` first,
and runs until shutdown() or for at most 900 seconds (then exits 1).  Its
root answers:

    echo(x)         -> x
    takePond(pond)  -> pond.numFrogs; pond is a pb.Copyable sent as
                       bench_peer.BenchPond (color, numFrogs, depth)
    subscribe()     -> the server's one Counter, a pb.Cacheable sent as
                       bench_peer.Counter (state: its count); every
                       connection that subscribes gets a cache of it
    pump(n)         -> n, after the counter changed n times: each change is
                       sent as observe_tick(count) to every cache first
    shutdown()      -> None, then the reactor stops a moment later

client: one of these scenarios for S seconds (default 3), K and C default 1:

    echo   K calls echo(N) in flight on one connection, N the call's
           sequence number; the answer must be N
    copy   K calls takePond(BenchPond) in flight on one connection; the
           answer must be the pond's numFrogs
    cache  C connections each subscribe(): C caches of the server's Counter.
           Then rounds of pump(100) on the first connection, each waiting
           until every cache has seen the round's 100 observe_tick updates.
           A "call" is one update run on one cache (the rate is updates
           delivered per second, summed over the caches); the latencies are
           the rounds'.

and prints `spread bench`'s summary line, the last line on stdout:

    calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E

A call that fails or answers wrongly counts as an error; a round of the
cache scenario not done within 30 s ends the run with an error.  The client
exits 0 without errors, 1 with any, and 1 if the whole run takes longer
than S + 60 seconds.  Twisted's log goes to stderr.
"""

import argparse
import math
import sys
import time

import peers  # this directory is sys.path[0] when run as a script

peers.require_twisted("bench_peer.py")

from twisted.internet import defer, reactor  # noqa: E402
from twisted.spread import pb  # noqa: E402

PROGRAM = "bench_peer.py"
ROUND = 100  # updates pump() is asked for in one round of the cache scenario
ROUND_LIMIT = 30.0  # seconds a round may take


class BenchPond(pb.Copyable):
    def __init__(self, color, numFrogs, depth):
        self.color = color
        self.numFrogs = numFrogs
        self.depth = depth

    def getTypeToCopy(self):
        # Run as a script this module is __main__; the wire name is fixed
        # (bytes, as jelly sends class names).
        return b"bench_peer.BenchPond"


class ReceivedPond(pb.RemoteCopy):
    pass


class Counter(pb.Cacheable):
    def __init__(self):
        self.count = 0
        self.observers = []

    def getTypeToCopy(self):
        return b"bench_peer.Counter"

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        return self.count

    def stoppedObserving(self, perspective, observer):
        # Not observers.remove(observer): RemoteCacheObserver's equality
        # compares brokers with `<` and raises once there are two of them.
        # One observer per connection, so its broker names it.
        self.observers = [o for o in self.observers if o.broker is not observer.broker]

    def tick(self, times):
        # A lost connection is not reported as stoppedObserving (only a
        # decache is), and calling through it would raise: drop those first.
        self.observers = [o for o in self.observers if not o.broker.disconnected]
        for _ in range(times):
            self.count += 1
            for o in self.observers:
                # A client may leave with updates in flight: not an error.
                o.callRemote("tick", self.count).addErrback(lambda _: None)


class Delivered:
    """Updates seen by every cache; fires `waiter` once `expected` is reached."""

    count = 0
    expected = 0
    waiter = None

    @classmethod
    def add(cls):
        cls.count += 1
        if cls.waiter is not None and cls.count >= cls.expected:
            waiter, cls.waiter = cls.waiter, None
            waiter.callback(None)


class CounterCache(pb.RemoteCache):
    def setCopyableState(self, state):
        self.count = state

    def observe_tick(self, count):
        self.count = count
        Delivered.add()


pb.setUnjellyableForClass("bench_peer.BenchPond", ReceivedPond)
pb.setUnjellyableForClass("bench_peer.Counter", CounterCache)


class BenchRoot(pb.Root):
    def __init__(self):
        self.counter = Counter()

    def remote_echo(self, x):
        return x

    def remote_takePond(self, pond):
        return pond.numFrogs

    def remote_subscribe(self):
        return self.counter

    def remote_pump(self, n):
        self.counter.tick(n)
        return n

    def remote_shutdown(self):
        peers.shutdown_soon()


def summary_line(latencies_us, calls, seconds, errors):
    """spread bench's summary line; nearest-rank percentiles."""
    latencies_us = sorted(latencies_us)

    def at(q):
        if not latencies_us:
            return 0
        return latencies_us[max(1, math.ceil(len(latencies_us) * q)) - 1]

    rate = calls / max(seconds, 1e-9)
    return (
        f"calls={calls} seconds={seconds:.3f} calls_per_sec={rate:.1f} p50_us={at(0.5)} "
        f"p99_us={at(0.99)} max_us={latencies_us[-1] if latencies_us else 0} errors={errors}"
    )


def connect(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    return factory.getRootObject()


@defer.inlineCallbacks
def calls_in_flight(port, in_flight, seconds, call):
    """`in_flight` calls kept going on one connection for `seconds`;
    call(root, n) gives (Deferred, expected answer)."""
    root = yield connect(port)
    latencies, errors, started = [], [0], time.perf_counter()
    deadline = started + seconds
    finished = defer.Deferred()
    outstanding = [in_flight]
    sequence = [0]

    def issue():
        sequence[0] += 1
        sent = time.perf_counter()
        d, expected = call(root, sequence[0])
        d.addCallbacks(lambda answer: answer == expected, lambda _: False)
        d.addCallback(answered, sent)

    def answered(good, sent):
        now = time.perf_counter()
        latencies.append(int((now - sent) * 1e6))
        if not good:
            errors[0] += 1
        if now < deadline:
            issue()
        else:
            outstanding[0] -= 1
            if outstanding[0] == 0:
                finished.callback(None)

    for _ in range(in_flight):
        issue()
    yield finished
    return summary_line(latencies, len(latencies), time.perf_counter() - started, errors[0])


@defer.inlineCallbacks
def cache_rounds(port, connections, seconds):
    roots, caches = [], []
    for _ in range(max(1, connections)):
        root = yield connect(port)
        roots.append(root)
        caches.append((yield root.callRemote("subscribe")))  # held to the end
    latencies, errors, started = [], 0, time.perf_counter()
    while time.perf_counter() < started + seconds:
        asked = time.perf_counter()
        Delivered.expected += ROUND * len(caches)
        arrived = defer.Deferred()
        Delivered.waiter = arrived
        try:
            yield roots[0].callRemote("pump", ROUND).addTimeout(ROUND_LIMIT, reactor)
            if Delivered.count >= Delivered.expected:
                Delivered.waiter = None
            else:
                yield arrived.addTimeout(ROUND_LIMIT, reactor)
        except Exception as e:
            sys.stderr.write(f"{PROGRAM}: a round failed: {e!r}\n")
            errors += 1
            break
        latencies.append(int((time.perf_counter() - asked) * 1e6))
    return summary_line(latencies, Delivered.count, time.perf_counter() - started, errors)


def client(args):
    pond = BenchPond("green", 7, 1.5)
    if args.scenario == "echo":
        run = calls_in_flight(args.port, args.in_flight, args.seconds, lambda root, n: (root.callRemote("echo", n), n))
    elif args.scenario == "copy":
        run = calls_in_flight(
            args.port, args.in_flight, args.seconds, lambda root, n: (root.callRemote("takePond", pond), pond.numFrogs)
        )
    else:
        run = cache_rounds(args.port, args.connections, args.seconds)

    def done(line):
        peers.say(line)
        peers.finish(0 if line.endswith(" errors=0") else 1)

    run.addCallbacks(done, peers.failed(PROGRAM, args.scenario))
    return peers.run_client(PROGRAM, time_limit=args.seconds + 60)


def main(argv):
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Twisted's side of cargo xtask bench")
    modes = parser.add_subparsers(dest="mode", required=True)
    server = modes.add_parser("server")
    server.add_argument("port", type=int, nargs="?", default=peers.DEFAULT_PORT)
    bench = modes.add_parser("client")
    bench.add_argument("port", type=int)
    bench.add_argument("scenario", choices=["echo", "copy", "cache"])
    bench.add_argument("--in-flight", type=int, default=1)
    bench.add_argument("--connections", type=int, default=1)
    bench.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv[1:])
    if args.mode == "server":
        return peers.serve(PROGRAM, BenchRoot(), args.port, idle_limit=900, backlog=1024)
    return client(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
