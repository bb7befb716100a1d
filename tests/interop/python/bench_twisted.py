"""Times Twisted's own jelly + Banana on the workloads of spread-jelly's
criterion bench (crates/jelly/benches/jelly.rs), so that `cargo xtask bench`
can print the two side by side.

Prints one JSON object per workload:
{"workload": name, "bytes": n, "encode_ns": t, "decode_ns": t}
where encode is jelly + Banana encoding of the object and decode is Banana
decoding + unjelly of Twisted's bytes, each the best mean of several runs.
"""

import json
import sys
import time
import timeit
import types

from twisted.spread import banana, jelly

# The instances' class must be importable for the permissive unjelly.
bench_module = types.ModuleType("bench")
sys.modules["bench"] = bench_module


class Pond:
    pass


Pond.__module__ = "bench"
bench_module.Pond = Pond


class NullTransport:
    def write(self, data):
        pass

    def writeSequence(self, seq):
        pass

    def loseConnection(self):
        pass


def pb_banana():
    proto = banana.Banana(isClient=1)
    proto.makeConnection(NullTransport())
    proto._selectDialect(b"pb")
    return proto


def workloads():
    def pond(i):
        p = Pond()
        p.count = i
        p.name = f"pond {i}"
        p.depth = i * 0.5
        p.frogs = [1, 2, 3]
        return p

    nested = 1
    for _ in range(50):
        nested = [nested]
    return [
        ("10k_small_ints", [i % 1000 for i in range(10_000)]),
        ("1k_str_dict", {f"key-{i:016}": f"value-{i:014}" for i in range(1_000)}),
        ("640k_bytes", b"\xa5" * 655_360),
        ("1k_instances", [pond(i) for i in range(1_000)]),
        ("nested_50", nested),
    ]


def best_mean_ns(fn, budget=1.0):
    number, _ = timeit.Timer(fn).autorange()
    runs = max(3, int(budget / max(1e-9, timeit.timeit(fn, number=number))))
    times = timeit.repeat(fn, number=number, repeat=min(runs, 20))
    return min(times) / number * 1e9


def main():
    sender = pb_banana()
    for name, obj in workloads():
        # Capture Twisted's bytes once, for the decode side.
        wire = []
        capture = pb_banana()
        capture.transport.write = wire.append
        capture.sendEncoded(jelly.jelly(obj))
        data = b"".join(wire)

        def encode():
            sender.sendEncoded(jelly.jelly(obj))

        receiver = pb_banana()
        got = []
        receiver.expressionReceived = got.append

        def decode():
            receiver.dataReceived(data)
            jelly.unjelly(got.pop())

        print(json.dumps({
            "workload": name,
            "bytes": len(data),
            "encode_ns": best_mean_ns(encode),
            "decode_ns": best_mean_ns(decode),
        }), flush=True)


if __name__ == "__main__":
    main()
