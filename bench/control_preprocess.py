"""What ControlNet preprocessing costs per frame, and a whole ControlNet frame.

    .venv/bin/python bench/control_preprocess.py [--runs 30] [--sizes 512 1024] [--threads 1]

Part 1: each preprocessor (``generators.preprocess``) on one picture as the generator
gives it one (``(H, W, 3)`` uint8 numpy to a ``[1, 3, H, W]`` control image, the upload
included), at each size: the median and p99 over ``--runs`` calls after one warm-up.
``depth`` runs a tiny DPT built from config (its cost is the plumbing and resizing, not
a real depth model's).

Part 2: the tiny SD pipeline (``generators.tiny``) at 64x64, one step: the median and
p99 frame time with no ControlNet, one tiny ControlNet (luma, canny) and two (luma +
canny), over ``--frames`` feedback frames.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from performer.control.params import ParamStore

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.preprocess import make
from performer.generators.tiny import save_tiny_controlnet, save_tiny_pipeline


def stats(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):8.2f} ms   p99 {p99:8.2f} ms"


def picture(size: int) -> np.ndarray:
    """A picture with structure: smooth noise, a bright square, a dark disc."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
    image = np.kron(small, np.ones((16, 16, 1), dtype=np.uint8))
    image[size // 4 : size // 2, size // 4 : size // 2] = 255
    y, x = np.ogrid[:size, :size]
    image[(y - 3 * size // 4) ** 2 + (x - 3 * size // 4) ** 2 < (size // 8) ** 2] = 0
    return image


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def tiny_depth(folder: Path) -> str:
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    config = DPTConfig(
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=384,
        patch_size=16,
        backbone_out_indices=[0, 1, 2, 3],
        neck_hidden_sizes=[8, 16, 16, 16],
        fusion_hidden_size=16,
    )
    DPTForDepthEstimation(config).save_pretrained(folder)
    DPTImageProcessor(size={"height": 384, "width": 384}).save_pretrained(folder)
    return f"depth:{folder}"


def upload_and_run(fn: Callable[[torch.Tensor], torch.Tensor], image: np.ndarray) -> object:
    """As ``control.Controls.images`` does: the picture onto the device, then ``fn``."""
    rgb = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    return fn(rgb.float())


@torch.inference_mode()
def preprocessors(sizes: list[int], runs: int, root: Path) -> None:
    cpu = torch.device("cpu")
    specs = ["luma", "canny", "soft_edge", tiny_depth(root / "dpt")]
    for size in sizes:
        image = picture(size)
        for spec in specs:
            call = partial(upload_and_run, make(spec, cpu, torch.float32), image)
            name = spec.partition(":")[0] + (" (tiny DPT)" if spec.startswith("depth") else "")
            print(f"{size}x{size}  {name:18s} {stats(timed(call, runs))}")


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
            print(f"tiny SD 64x64, 1 step  {name:26s} {stats(timed(partial(gen, snap), count))}")
        finally:
            gen.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--threads", type=int, help="torch's CPU threads (default: its own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        preprocessors(args.sizes, args.runs, Path(tmp))
        frames(Path(tmp), args.frames)


if __name__ == "__main__":
    main()
