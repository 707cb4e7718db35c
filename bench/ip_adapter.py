"""Frame times with an IP-Adapter image prompt, against the model without one.

    .venv/bin/python bench/ip_adapter.py [--frames 120] [--runs 5] [--compile eager]

On the tiny SD pipeline with a tiny IP-Adapter (``generators.tiny``). Each run plays
``--frames`` feedback frames: "none" without the adapter, "file" with an image prompt
from a file (encoded once), "sweep" with ip_scale moving every frame from 0 to 2 and
back, "live" with a new live input frame every frame (each encoded, once). Reported per
case: the median over runs of the median and the p99 frame time; with ``--compile``,
the dynamo graphs built after prepare() (none: no knob or image recompiles).
"""

from __future__ import annotations

import math
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from performer.control.params import ParamStore, Snapshot

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.tiny import save_tiny_ip_adapter, save_tiny_pipeline

try:
    from bench import frame_times
except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
    import frame_times  # type: ignore[no-redef]

SIZE = 64


def times(gen: DiffusersGenerator, snap: Snapshot, frames: int, case: str) -> list[float]:
    rng = np.random.default_rng(0)
    lives = [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(8)]
    gen.reset()
    gen(snap)
    out = []
    for i in range(frames):
        s = snap.replace(ip_scale=1.0 - math.cos(i * 0.2)) if case == "sweep" else snap
        live = lives[i % len(lives)].copy() if case == "live" else None  # a new frame each time
        start = time.perf_counter()
        gen(s, live)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    args = frame_times.tiny_options(__doc__.splitlines()[0])
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    model = save_tiny_pipeline(root / "sd", "sd")
    adapter = save_tiny_ip_adapter(root / "ip", model)
    from PIL import Image

    image = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(image).save(adapter / "ref.png")
    fast = {"compile": args.compile} if args.compile else {}
    snap = ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()
    mode = args.compile or "off"
    print(f"tiny SD {SIZE}x{SIZE}, {args.frames} frames x {args.runs} runs, compile={mode}")
    print(f"{'case':6} {'median ms':>10} {'p99 ms':>8}")
    from torch._dynamo.utils import counters

    for case in ("none", "file", "sweep", "live"):
        ip = (
            {}
            if case == "none"
            else {"ip_adapter": str(adapter), "ip_image": str(adapter / "ref.png")}
        )
        gen = DiffusersGenerator(str(model), **ip, **fast)  # type: ignore[arg-type]
        gen.prepare(Setup(SIZE, SIZE, {1850.0: "daguerreotype", 1985.0: "vhs camcorder"}))
        graphs = counters["stats"]["unique_graphs"]
        played = snap.replace(ip_source=1) if case == "live" else snap
        median, p99 = frame_times.summary(partial(times, gen, played, args.frames, case), args.runs)
        line = f"{case:6} {median:10.2f} {p99:8.2f}"
        if args.compile:
            line += f"   recompiles: {counters['stats']['unique_graphs'] - graphs}"
        print(line)
        gen.close()


if __name__ == "__main__":
    main()
