"""What OSC feedback costs the thread that applied the changes (the display's).

    .venv/bin/python bench/osc_feedback.py                  # 4 controllers, 2,000 ticks
    .venv/bin/python bench/osc_feedback.py --controllers 1 --runs 7

A real server on loopback, ``--controllers`` registered with a hello (each a UDP socket
that a thread keeps draining), then ``--ticks`` calls of ``OscServer.feedback`` with two
changed parameters each, as the session makes them once a display frame, paced at
``--fps``, a pause between runs to let the budgets refill. Prints the caller's time
per call: the median of each run, then the median of the runs' medians.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time

from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.osc_server import OscServer
from performer.control.params import REGISTRY, ParamStore


def controller(server: OscServer, stop: threading.Event) -> socket.socket:
    """A registered controller whose socket a thread drains until ``stop``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    sock.sendto(encode("/performer/hello", sock.getsockname()[1]), server.address)
    for _ in REGISTRY:  # the state the hello brings back
        sock.recvfrom(4096)
    sock.settimeout(0.1)

    def drain() -> None:
        while not stop.is_set():
            try:
                sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue

    threading.Thread(target=drain, daemon=True).start()
    return sock


def run(server: OscServer, ticks: int, fps: float) -> float:
    """The median seconds one ``feedback`` call took its caller."""
    took = []
    next_at = time.perf_counter()
    for i in range(ticks):
        changes = [("era", 1840.0 + (i % 190)), ("timestep", (i % 100) / 100)]
        started = time.perf_counter()
        server.feedback(changes, "midi:cc:1:7")
        took.append(time.perf_counter() - started)
        next_at += 1 / fps
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--controllers", type=int, default=4)
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--fps", type=float, default=120.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stop = threading.Event()
    with OscServer(OscRouter(Inbox(), MonotonicClock(), ParamStore()), port=0) as server:
        socks = [controller(server, stop) for _ in range(args.controllers)]
        medians = []
        for _ in range(args.runs):
            time.sleep(2.0)  # the budgets refill
            medians.append(run(server, args.ticks, args.fps))
            print(f"run: {medians[-1] * 1e6:.1f} us per call (median)")
        stop.set()
        for sock in socks:
            sock.close()
    print(
        f"{args.controllers} controllers, {args.ticks} ticks at {args.fps:g} fps: "
        f"{statistics.median(medians) * 1e6:.1f} us per call (median of {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
