"""Frame times while a live LoRA's weight sweeps, against the same LoRA held, and none.

    .venv/bin/python bench/lora_sweep.py [--frames 120] [--runs 5] [--compile eager]

On the tiny SD pipeline with a tiny LoRA (``generators.tiny``: attention and resnet
convolutions, rank 4). Each run plays ``--frames`` feedback frames: "none" without the
LoRA, "held" with lora_ink at 1, "sweep" with lora_ink moving every frame from 0 to 2
and back. Reported per case: the median over runs of the median and the p99 frame time,
and, on one sweeping frame, the tensor reads into Python (each a device sync on a GPU;
the weight is written in place, so 0). With ``--compile`` the dynamo graph count after
the sweep must equal the one after prepare(): no weight recompiles.
"""

from __future__ import annotations

import math
import tempfile
import time
from functools import partial
from pathlib import Path

import torch
from performer.control.params import ParamStore, Snapshot
from torch.overrides import TorchFunctionMode

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.lora import LoraSpec
from performer.generators.tiny import save_tiny_lora, save_tiny_pipeline

try:
    from bench import frame_times
except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
    import frame_times  # type: ignore[no-redef]

READS = {torch.Tensor.__bool__, torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__float__}


class Reads(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.reads += func in READS
        return func(*args, **(kwargs or {}))


def times(gen: DiffusersGenerator, snap: Snapshot, frames: int, sweep: bool) -> list[float]:
    gen.reset()
    gen(snap)
    out = []
    for i in range(frames):
        s = snap.replace(lora_ink=1.0 - math.cos(i * 0.2)) if sweep else snap
        start = time.perf_counter()
        gen(s)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    args = frame_times.tiny_options(__doc__.splitlines()[0])
    torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp())
    model = save_tiny_pipeline(root / "sd", "sd")
    spec = LoraSpec(str(save_tiny_lora(root / "lora", model)), "ink")
    fast = {"compile": args.compile} if args.compile else {}
    snap = ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()
    cases = {"none": ((), False), "held": ((spec,), False), "sweep": ((spec,), True)}
    mode = args.compile or "off"
    print(f"tiny SD 64x64, {args.frames} frames x {args.runs} runs, compile={mode}")
    print(f"{'case':6} {'median ms':>10} {'p99 ms':>8}")
    from torch._dynamo.utils import counters

    for case, (loras, sweep) in cases.items():
        gen = DiffusersGenerator(str(model), loras=loras, **fast)  # type: ignore[arg-type]
        gen.prepare(Setup(64, 64, {1850.0: "daguerreotype", 1985.0: "vhs camcorder"}))
        graphs = counters["stats"]["unique_graphs"]
        median, p99 = frame_times.summary(partial(times, gen, snap, args.frames, sweep), args.runs)
        line = f"{case:6} {median:10.2f} {p99:8.2f}"
        if sweep:
            if args.compile:  # counted first: a frame under the counting mode recompiles
                line += f"   recompiles: {counters['stats']['unique_graphs'] - graphs}"
            with Reads() as reads:
                gen(snap.replace(lora_ink=0.77))
            line += f"   reads per sweeping frame: {reads.reads}"
        print(line)
        gen.close()


if __name__ == "__main__":
    main()
