"""An OSC flood through the router: throughput, RSS, the inbox and the log after it.

    .venv/bin/python bench/osc_flood.py              # 100,000 hostile datagrams
    .venv/bin/python bench/osc_flood.py --count 20000

Datagrams go straight to ``OscRouter.handle`` (no socket: this measures the protocol
layer, not the kernel), with no frame loop draining the inbox, so the inbox is at its
worst. The mix, round-robin: garbage bytes, bundles nested 1,000 deep, bundles for
2035, bundles 50 s ahead, blobs, distinct addresses with 2,000 characters of text,
hellos from fresh ports, ``/performer/get prompt`` from a host off this machine, and
commands. For comparison, the same number of plain ``/performer/era`` messages first.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import struct
import time
from collections.abc import Callable

from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.params import ParamStore


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def nested(depth: int) -> bytes:
    data = encode("/performer/era", 1900.0)
    for _ in range(depth):
        data = b"#bundle\x00" + struct.pack(">Qi", 1, len(data)) + data
    return data


def at(seconds: float, message: bytes) -> bytes:
    tag = struct.pack(">Q", int((seconds + 2_208_988_800) * 2**32))
    return b"#bundle\x00" + tag + struct.pack(">i", len(message)) + message


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1


def hostile_kinds() -> list[Callable[[int], bytes]]:
    """The round-robin of the flood: one datagram maker per kind."""
    blob = b"/x\x00\x00,b\x00\x00" + struct.pack(">i", 1000) + b"\x00" * 1000
    deep, in_2035 = nested(1000), at(2_051_222_400.0, encode("/performer/era", 1850.0))
    ahead = at(time.time() + 50, encode("/performer/era", 1850.0))
    hello, get = encode("/performer/hello", 9001), encode("/performer/get", "prompt")
    stop = encode("/performer/record/stop")
    return [
        lambda i: os.urandom(64),
        lambda i: deep,
        lambda i: in_2035,
        lambda i: ahead,
        lambda i: blob,
        lambda i: encode(f"/flood/{i}", "x" * 2000),
        lambda i: hello,
        lambda i: get,  # kind 7: sent from off this machine
        lambda i: stop,
    ]


def plain_rate(router: OscRouter, count: int) -> float:
    """Datagrams a second of plain ``/performer/era`` messages."""
    plain = [encode("/performer/era", 1840.0 + i % 190) for i in range(1000)]
    started = time.perf_counter()
    for i in range(count):
        router.handle(plain[i % 1000], ("127.0.0.1", 50000))
    rate = count / (time.perf_counter() - started)
    router.inbox.drain()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    rss_start = rss_mb()
    counter = _Count()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.WARNING)

    store = ParamStore()
    store.set("prompt", "a harbour at night, " * 100)
    router = OscRouter(Inbox(), MonotonicClock(), store)
    plain = plain_rate(router, args.count)

    kinds = hostile_kinds()
    far = ("10.9.9.9", 40000)
    rss_before = rss_mb()
    bytes_in = bytes_out = far_in = far_out = 0
    elapsed = 0.0
    for i in range(args.count):
        kind = i % len(kinds)
        data = kinds[kind](i)
        sender = far if kind == 7 else ("127.0.0.1", 10000 + i % 50000)
        started = time.perf_counter()
        replies = router.handle(data, sender)
        elapsed += time.perf_counter() - started
        size = sum(len(r) for r, _ in replies)
        bytes_in, bytes_out = bytes_in + len(data), bytes_out + size
        if sender == far:
            far_in, far_out = far_in + len(data), far_out + size
    rss_after = rss_mb()

    print(f"plain /performer/era: {plain:,.0f} datagrams/s")
    print(
        f"hostile mix: {args.count:,} datagrams in {elapsed:.2f} s = {args.count / elapsed:,.0f}/s"
    )
    print(
        f"RSS (MiB): {rss_start:.1f} at start, {rss_before:.1f} before the flood, "
        f"{rss_after:.1f} after"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.1f} MiB")
    print(f"inbox after: {router.inbox.pending()} events; dropped {dict(router.inbox.drops)}")
    print(f"complaints: {dict(router.complaints.counts)}")
    print(f"log lines: {counter.lines}")
    print(f"bytes in {bytes_in:,}, replies out {bytes_out:,}")
    print(f"off-machine sender: {far_in:,} bytes in, {far_out:,} out ({far_out / far_in:.2f}x)")


if __name__ == "__main__":
    main()
