"""Frames per second of the diffusers backend's whole per-frame path, on tiny models (CPU).

    .venv/bin/python bench/diffusers_speed.py [--frames 60] [--runs 5] [--threads 1]

A tiny random SD or LCM pipeline (``generators.tiny``) is so small that the UNet no
longer hides the per-frame work around it: conditioning (era moves every frame, so the
slerp runs), noise, the text batch and guidance, decode. Each run resets the generator
and plays ``--frames`` frames with feedback; the median of the runs is reported per
model, steps and guidance (0: one UNet pass; 3: CFG, or LCM's guidance embedding).

A shared machine makes fps noisy, so each row also counts, on one frame, what does not
depend on load: the calls into PyTorch, and how many of them read a tensor's value back
into Python (``bool()``, ``.item()``, ``.tolist()``, ``float()`` of a tensor), each of
which waits for the device when the tensor is on a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from performer.control.params import ParamStore, Snapshot
from torch.overrides import TorchFunctionMode

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.tiny import save_tiny_pipeline

ANCHORS = {1850.0: "daguerreotype", 1925.0: "silent film still", 1985.0: "vhs camcorder"}


def fps(gen: DiffusersGenerator, snap: Snapshot, frames: int) -> float:
    gen.reset()
    gen(snap)  # the first frame grows from noise; time the feedback loop after it
    start = time.perf_counter()
    for i in range(frames):
        gen(snap.replace(era=1850.0 + i))  # era moves: a new conditioning every frame
    return frames / (time.perf_counter() - start)


READS = {torch.Tensor.__bool__, torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__float__}


class Count(TorchFunctionMode):
    """Counts the calls into PyTorch on this thread, and the reads into Python."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = self.reads = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.reads += func in READS
        return func(*args, **(kwargs or {}))


def one_frame(gen: DiffusersGenerator, snap: Snapshot) -> Count:
    gen.reset()
    gen(snap)
    gen(snap.replace(era=1860.0))  # the conditioning cached for a frame before
    with Count() as count:
        gen(snap.replace(era=1861.0))  # era moved: a new conditioning (a slerp)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()
    with tempfile.TemporaryDirectory() as root:
        for kind in ("sd", "lcm"):
            folder = save_tiny_pipeline(Path(root) / kind, kind)
            gen = DiffusersGenerator(str(folder), device="cpu")
            gen.prepare(Setup(32, 32, ANCHORS))
            for guidance in (0.0, 3.0):
                for steps in (1, 2, 4):
                    snap = base.replace(steps=steps, guidance=guidance)
                    runs = [fps(gen, snap, args.frames) for _ in range(args.runs)]
                    text = ", ".join(f"{r:.1f}" for r in runs)
                    count = one_frame(gen, snap)
                    print(
                        f"{kind} steps {steps} guidance {guidance:g}: {count.calls} calls, "
                        f"{count.reads} reads a frame; median {statistics.median(runs):.1f} fps  "
                        f"(runs: {text}; {args.frames} frames each, {args.threads} thread)",
                        flush=True,
                    )
            gen.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
