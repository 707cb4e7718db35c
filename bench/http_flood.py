"""The display under network floods: 500 held HTTP connections, then 100k OSC datagrams.

    .venv/bin/python bench/http_flood.py                 # 3 rounds, 5 s per phase
    .venv/bin/python bench/http_flood.py --rounds 1 --seconds 3

One process holds what the instrument holds: the OSC server and the OSCQuery server on
127.0.0.1 (the real ones, with a real router and inbox), and a display loop on the main
thread drawing at 60 Hz with the real compositor into a headless EGL framebuffer
(512², a new picture every other tick, ``finish()`` each tick, the inbox drained each
tick as the frame loop does). The attackers run in other processes, as they would on
other machines:

- ``hold``: tries to keep 500 connections open, sending one header byte per connection
  every 0.5 s (slowloris) and reconnecting whichever the server closes; beside it a
  good client asks for ``/performer/era?VALUE`` every 0.1 s and times each answer;
- ``udp``: sends 100,000 OSC datagrams (three in four a valid ``/performer/era``, the
  rest garbage) as fast as it can.

Reported per phase (idle, HTTP flood, UDP flood): the display's worst and p99 gap
between frames, the most Python threads seen, the good client's answer times, and the
process's RSS before and after each flood; then medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

HOLD = 500
DATAGRAMS = 100_000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# the attackers (run as subprocesses of this script)


def hold(port: int, count: int, seconds: float) -> dict[str, Any]:
    address = ("127.0.0.1", port)
    latencies: list[float] = []
    failures = 0
    done = threading.Event()

    def good_client() -> None:
        nonlocal failures
        while not done.is_set():
            started = time.perf_counter()
            try:
                with socket.create_connection(address, timeout=5) as sock:
                    sock.sendall(b"GET /performer/era?VALUE HTTP/1.1\r\nHost: p\r\n\r\n")
                    reply = b""
                    while chunk := sock.recv(4096):
                        reply += chunk
                ok = reply.startswith(b"HTTP/1.1 200")
            except OSError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
            time.sleep(0.1)

    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(address)
        return sock

    prober = threading.Thread(target=good_client, daemon=True)
    prober.start()
    socks = [connect() for _ in range(count)]
    reconnects = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i, sock in enumerate(socks):
            try:
                sock.send(b"X")
            except BlockingIOError:
                pass  # still connecting (the server's backlog is full)
            except OSError:
                sock.close()
                socks[i] = connect()
                reconnects += 1
        time.sleep(0.5)
    done.set()
    prober.join(timeout=6)
    for sock in socks:
        sock.close()
    return {"answers": latencies, "failures": failures, "reconnects": reconnects}


def udp(port: int, count: int) -> dict[str, Any]:
    from performer.control.osc import encode

    rng = random.Random(12)
    good = [encode("/performer/era", 1840.0 + i * 0.5) for i in range(380)]
    bad = [rng.randbytes(rng.randint(1, 200)) for _ in range(64)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    started = time.perf_counter()
    for i in range(count):
        data = bad[i % 64] if i % 4 == 3 else good[i % 380]
        sock.sendto(data, ("127.0.0.1", port))
    return {"seconds": time.perf_counter() - started}


def attacker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--attack", *args], stdout=subprocess.PIPE, text=True
    )


# the instrument's side


class Display:
    """A 60 Hz loop with the compositor on EGL; records the gap between frames."""

    def __init__(self, drain: Any) -> None:
        import numpy as np
        from performer.render.compositor import Compositor
        from performer.render.headless import Headless

        self.headless = Headless(512, 512)
        self.compositor = Compositor(self.headless.ctx)
        rng = np.random.default_rng(3)
        self.frames = [rng.integers(0, 255, (512, 512, 3), dtype=np.uint8) for _ in range(4)]
        self.drain = drain
        self.ticks = 0

    def run(self, seconds: float, until: Any = None) -> dict[str, float]:
        """Draw for ``seconds`` (or until ``until()`` is true); the gaps and threads seen."""
        period = 1 / 60
        gaps: list[float] = []
        threads = threading.active_count()
        last = time.perf_counter()
        deadline = last + period
        end = last + seconds
        while time.perf_counter() < end and not (until and until()):
            pause = deadline - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            deadline = max(deadline + period, time.perf_counter())
            self.drain()
            now = time.perf_counter()
            if self.ticks % 2 == 0:
                self.compositor.push(self.frames[self.ticks // 2 % 4], now)
            self.headless.use()
            self.compositor.draw(now, (0, 0, 512, 512), 0.2)
            self.headless.ctx.finish()
            self.ticks += 1
            done = time.perf_counter()
            gaps.append(done - last)
            last = done
            threads = max(threads, threading.active_count())
        gaps.sort()
        return {
            "worst_ms": gaps[-1] * 1000,
            "p99_ms": gaps[int(len(gaps) * 0.99)] * 1000,
            "threads": threads,
        }


def one_round(display: Display, query: Any, osc: Any, seconds: float) -> dict[str, float]:
    out: dict[str, float] = {}
    idle = display.run(seconds)
    out["idle worst ms"], out["idle p99 ms"] = idle["worst_ms"], idle["p99_ms"]
    out["RSS before MB"] = rss_mb()

    holder = attacker("hold", str(query.address[1]), str(HOLD), str(seconds))
    flood = display.run(seconds + 30, until=lambda: holder.poll() is not None)
    held = json.loads(holder.communicate()[0])
    display.run(0.5)
    out["HTTP worst ms"], out["HTTP p99 ms"] = flood["worst_ms"], flood["p99_ms"]
    out["HTTP threads"] = flood["threads"]
    answers = sorted(held["answers"]) or [float("nan")]
    out["good answer median ms"] = statistics.median(answers) * 1000
    out["good answer worst ms"] = answers[-1] * 1000
    out["good failures"] = held["failures"]
    out["attacker reconnects"] = held["reconnects"]
    out["RSS after HTTP MB"] = rss_mb()

    received = osc.received
    sender = attacker("udp", str(osc.address[1]), str(DATAGRAMS))
    flood = display.run(seconds + 30, until=lambda: sender.poll() is not None)
    sender.communicate()
    display.run(0.5)
    out["UDP worst ms"], out["UDP p99 ms"] = flood["worst_ms"], flood["p99_ms"]
    out["UDP datagrams heard"] = osc.received - received
    out["RSS after UDP MB"] = rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--attack", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        kind, port, *rest = args.attack
        if kind == "hold":
            result = hold(int(port), int(rest[0]), float(rest[1]))
        else:
            result = udp(int(port), int(rest[0]))
        print(json.dumps(result))
        return

    from performer.control.clock import MonotonicClock
    from performer.control.events import Inbox
    from performer.control.osc import OscRouter
    from performer.control.osc_server import OscServer
    from performer.control.oscquery import OscQueryServer
    from performer.control.params import ParamStore

    store = ParamStore({"era": 1977})
    router = OscRouter(Inbox(), MonotonicClock(), store)
    osc = OscServer(router, port=0)
    osc.start()
    query = OscQueryServer(store, osc.address, port=0)
    query.start()
    display = Display(router.inbox.drain)
    display.run(1.0)  # warm up the GL pipeline
    rounds = []
    try:
        for n in range(args.rounds):
            result = one_round(display, query, osc, args.seconds)
            rounds.append(result)
            print(f"round {n + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))
    finally:
        query.stop()
        osc.stop()
    print(f"\nmedians of {len(rounds)} rounds ({os.cpu_count()} CPUs, {HOLD} held connections):")
    for key in rounds[0]:
        print(f"  {key:24s} {statistics.median(r[key] for r in rounds):9.1f}")
    stats = getattr(query, "stats", None)
    if stats:
        print("  OSCQuery:", dict(stats))


if __name__ == "__main__":
    main()
