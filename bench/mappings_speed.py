"""Per-frame cost of the conductor: 64 mappings and 16 timeline tracks.

    .venv/bin/python bench/mappings_speed.py [--ticks 2000] [--runs 3]

A busy patch: 48 MIDI knobs (half smoothed, some relative, some adding), 16 LFO
mappings, 16 tracks (12 keyed with 64 cubic/eased keys, 4 oscillators), with 8 knob
events arriving every frame. Prints the median and 99th percentile of one ``tick``
(events included) per run. The target: well under 1 ms. On a loaded shared machine
the tail (p99) shows the scheduler's time slices, not the conductor's work.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from performer.control.clock import FakeClock
from performer.control.events import Event
from performer.control.params import ParamStore
from performer.mappings import Conductor, parse

NUMERIC = ["timestep", "guidance", "era", "prompt_mix", "seed_travel", "zoom", "rotate",
           "translate_x", "translate_y", "crossfade"]  # fmt: skip
SMOOTH: list[Any] = ["none", "onepole", {"kind": "euro", "beta": 0.01}, {"kind": "slew"}]


def busy_patch() -> dict[str, Any]:
    mappings: list[dict[str, Any]] = []
    for i in range(48):
        m: dict[str, Any] = {"source": f"midi:cc:{1 + i // 16}:{i % 16}", "param": NUMERIC[i % 10]}
        m["smooth"] = SMOOTH[i % 4]
        m["curve"] = ["linear", "exp", "log", "scurve"][i % 4]
        if i % 6 == 5:
            m["encoding"] = "twos-complement"
        if i % 5 == 4:
            m["combine"] = "add"
            m["out"] = [-0.01, 0.01]
        mappings.append(m)
    for i in range(16):
        shape = ["sine", "triangle", "saw", "square", "pulse"][i % 5]
        mappings.append({"source": f"lfo:{shape}", "param": NUMERIC[i % 10], "combine": "add",
                         "out": [-0.001, 0.001], "period": 1 + i})  # fmt: skip
    timelines: dict[str, Any] = {}
    for i in range(12):
        p = ["zoom", "rotate", "translate_x", "translate_y"][i % 4]
        lo, hi = {"zoom": (0.9, 1.1), "rotate": (-5, 5)}.get(p, (-0.1, 0.1))
        keys = [[b, lo + (hi - lo) * ((b * 7919) % 64) / 63] for b in range(64)]
        timelines[f"t{i}"] = {
            "param": p,
            "keys": keys,
            "interp": ["cubic", "eased", "linear"][i % 3],
            "loop": True,
            "length": 64,
            "combine": "add" if i >= 4 else "replace",
        }
    for i in range(4):
        timelines[f"lfo{i}"] = {"param": "guidance", "lfo": "sine", "period": 2 + i,
                                "lo": 0.0, "hi": 0.5, "combine": "add"}  # fmt: skip
    timelines["t0"]["mode"] = "touch"
    return {
        "mappings": mappings,
        "timelines": timelines,
        "transport": {"bpm": 128},
        "scenes": {"a": {"era": 1900.0}, "b": {"era": 2000.0}},
        "cues": {"a": {"at": [0], "every": 32, "fade": 8}, "b": {"at": [16], "every": 32}},
    }


def run(ticks: int) -> list[float]:
    clock, store = FakeClock(), ParamStore()
    conductor = Conductor(parse(busy_patch()))
    costs = []
    for frame in range(ticks):
        now = clock.advance(1 / 60)
        for k in range(8):  # eight knobs turning
            n = (frame * 8 + k) % 48
            raw = (frame + k) % 128
            conductor.feed(Event(now, f"midi:cc:{1 + n // 16}:{n % 16}", raw / 127, raw=raw))
        snapshot = store.snapshot()
        start = time.perf_counter()
        changes = conductor.tick(now, snapshot)
        costs.append(time.perf_counter() - start)
        store.update((c.param, c.value) for c in changes)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    patch = busy_patch()
    print(f"{len(patch['mappings'])} mappings, {len(patch['timelines'])} timeline tracks, "
          f"8 events per tick, {args.ticks} ticks per run")  # fmt: skip
    for r in range(args.runs):
        costs = sorted(run(args.ticks))
        median = statistics.median(costs) * 1e3
        p95, p99 = (costs[int(len(costs) * q)] * 1e3 for q in (0.95, 0.99))
        print(f"run {r + 1}: median {median:.3f} ms, p95 {p95:.3f} ms, p99 {p99:.3f} ms per tick")


if __name__ == "__main__":
    main()
