"""Frames per second of the embedded era model, through the generator's full per-frame path.

    .venv/bin/python bench/embedded_speed.py [--frames 200] [--runs 3]

Each run resets the generator and plays ``--frames`` frames (snapshot in, uint8 frame
out) with feedback at the default timestep; the median of the runs is reported for 1,
2 and 4 steps, with guidance off (one forward pass) and on (two, batched).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from performer.control.params import Snapshot, defaults

from performer.generators.base import Setup
from performer.generators.embedded import EmbeddedGenerator


def fps(gen: EmbeddedGenerator, snap: Snapshot, frames: int) -> float:
    gen.reset()
    gen(snap)  # the first frame grows from noise; time the feedback loop after it
    start = time.perf_counter()
    for _ in range(frames):
        gen(snap)
    return frames / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    gen = EmbeddedGenerator()
    gen.prepare(Setup())
    w, h = gen.size
    print(f"{gen.identity}: native {w}x{h}, torch threads {torch.get_num_threads()}")
    base = Snapshot(defaults()).replace(era=1925.0, zoom=1.01, rotate=0.5)
    for guidance in (0.0, 4.0):
        for steps in (1, 2, 4):
            snap = base.replace(steps=steps, guidance=guidance)
            runs = [fps(gen, snap, args.frames) for _ in range(args.runs)]
            text = ", ".join(f"{r:.1f}" for r in runs)
            print(
                f"steps {steps} guidance {guidance:g}: median {statistics.median(runs):.1f} fps  "
                f"(runs: {text}; {args.frames} frames each)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
