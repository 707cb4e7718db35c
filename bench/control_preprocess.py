"""What ControlNet preprocessing costs per frame, and a whole ControlNet frame.

    .venv/bin/python bench/control_preprocess.py [--runs 30] [--sizes 512 1024] [--threads 1]
    python bench/control_preprocess.py --device cuda --sizes 512 --frames 0 --json pre.json

Part 1: each preprocessor (``generators.preprocess``) on one picture as the generator
gives it one (``(H, W, 3)`` uint8 numpy to a ``[1, 3, H, W]`` control image on
``--device``, the upload included, and on CUDA synchronised), at each size: the median
and p99 over ``--runs`` calls after one warm-up. ``depth`` runs a tiny DPT built from
config (its cost is the plumbing and resizing, not a real depth model's). ``--json``
writes these rows as ``{"preprocess": [{"preprocessor", "size", "device", "p50_ms",
"p99_ms"}]}`` (bench/gpu_results.py gathers them).

Part 2 (on the CPU; ``--frames 0`` leaves it out): the tiny SD pipeline
(``generators.tiny``) at 64x64, one step: the median and p99 frame time with no
ControlNet, one tiny ControlNet (luma, canny) and two (luma + canny), over ``--frames``
feedback frames.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from performer.control.params import ParamStore

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.preprocess import make
from performer.generators.tiny import save_tiny_controlnet, save_tiny_depth, save_tiny_pipeline

try:
    from bench.frame_times import percentile, timed
except ModuleNotFoundError:  # run as a script: bench/ itself is on the path
    from frame_times import percentile, timed  # type: ignore[no-redef]


def p50_p99(seconds: list[float]) -> tuple[float, float]:
    ms = [s * 1000 for s in seconds]
    return statistics.median(ms), percentile(ms, 0.99)


def stats(seconds: list[float]) -> str:
    p50, p99 = p50_p99(seconds)
    return f"median {p50:8.2f} ms   p99 {p99:8.2f} ms"


def picture(size: int) -> np.ndarray:
    """A picture with structure: smooth noise, a bright square, a dark disc."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
    image = np.kron(small, np.ones((16, 16, 1), dtype=np.uint8))
    image[size // 4 : size // 2, size // 4 : size // 2] = 255
    y, x = np.ogrid[:size, :size]
    image[(y - 3 * size // 4) ** 2 + (x - 3 * size // 4) ** 2 < (size // 8) ** 2] = 0
    return image


def warm_timed(
    fn: Callable[[], object], runs: int, sync: Callable[[], None] = lambda: None
) -> list[float]:
    """Seconds per call over ``runs`` calls, after one call not counted."""
    fn()
    sync()
    return timed(fn, runs, sync)


def upload_and_run(
    fn: Callable[[torch.Tensor], torch.Tensor], image: np.ndarray, device: torch.device
) -> object:
    """As ``control.Controls.images`` does: the picture onto the device, then ``fn``."""
    rgb = torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None]
    return fn(rgb.float())


@torch.inference_mode()
def preprocessors(
    sizes: list[int], runs: int, root: Path, device: torch.device
) -> list[dict[str, object]]:
    depth = save_tiny_depth(root / "dpt", side=384, patch=16)  # DPT's own input size
    specs = ["luma", "canny", "soft_edge", f"depth:{depth}"]
    sync = partial(torch.cuda.synchronize, device) if device.type == "cuda" else lambda: None
    rows: list[dict[str, object]] = []
    for size in sizes:
        image = picture(size)
        for spec in specs:
            call = partial(upload_and_run, make(spec, device, torch.float32), image, device)
            name = spec.partition(":")[0] + (" (tiny DPT)" if spec.startswith("depth") else "")
            seconds = warm_timed(call, runs, sync)
            print(f"{size}x{size}  {name:18s} {stats(seconds)}", flush=True)
            p50, p99 = p50_p99(seconds)
            rows.append(
                {
                    "preprocessor": name,
                    "size": size,
                    "device": device.type,
                    "p50_ms": p50,
                    "p99_ms": p99,
                }
            )
    return rows


def frames(root: Path, count: int) -> None:
    model = save_tiny_pipeline(root / "sd", "sd")
    nets = [save_tiny_controlnet(root / f"net{n}", model, seed=n) for n in (0, 1)]
    cases: dict[str, tuple[tuple[str, str], ...]] = {
        "no ControlNet": (),
        "1 ControlNet, luma": ((str(nets[0]), "luma"),),
        "1 ControlNet, canny": ((str(nets[0]), "canny"),),
        "2 ControlNets, luma+canny": ((str(nets[0]), "luma"), (str(nets[1]), "canny")),
    }
    for name, specs in cases.items():
        gen = DiffusersGenerator(str(model), controlnets=specs)
        gen.prepare(Setup(64, 64, {1850.0: "daguerreotype", 1990.0: "vhs tape"}))
        snap = ParamStore({"prompt": "a street", "timestep": 0.7}).snapshot()
        try:
            print(
                f"tiny SD 64x64, 1 step  {name:26s} {stats(warm_timed(partial(gen, snap), count))}"
            )
        finally:
            gen.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--threads", type=int, help="torch's CPU threads (default: its own)")
    parser.add_argument("--device", default="cpu", help="where the preprocessors run (cuda)")
    parser.add_argument("--json", type=Path, help="write part 1's rows here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {name}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        rows = preprocessors(args.sizes, args.runs, Path(tmp), device)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"preprocess": rows}, indent=1))
        if args.frames:
            frames(Path(tmp), args.frames)


if __name__ == "__main__":
    main()
