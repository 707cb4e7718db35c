"""Train the embedded era model on CPU: ``performer train-embedded``.

Direct x0-prediction over continuous noise levels (see :mod:`.model`), so every level
the few-step schedule visits is trained and one evaluation gives a frame. The loss is
pixel MSE plus a texture-statistics term (per-image energy of a Laplacian and of
vertical/horizontal differences), because MSE alone averages grain, scratches and
scanlines away and those are much of what marks a medium. Fine-tuning stages add an
image-statistics term (saturation, contrast, line energy, scanline amplitude; see
:func:`image_stats`) that keeps one-step frames from flattening into the mean record,
or learn a teacher's few-step draw (``--distill-from``). The condition (year and
words) is dropped to a learned null 15% of the time, so guidance has something to
contrast; words alone are dropped half the time, so they stay optional.

Data is made on the fly: a pool of samples from :mod:`.dataset`, part of which is
replaced with fresh samples every step. A checkpoint (EMA weights) and the loss log are
written every few minutes, so a usable model exists whenever training is stopped.
"""

from __future__ import annotations

import argparse
import copy
import csv
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from performer.embedded import dataset
from performer.embedded.model import EraDenoiser, ModelConfig
from performer.embedded.weights import load, save
from performer.generators.common import schedule

_KERNELS = torch.tensor(
    [
        [[0, 1, 0], [1, -4, 1], [0, 1, 0]],  # grain
        [[0, -1, 0], [0, 1, 0], [0, 0, 0]],  # rows: scanlines, horizons
        [[0, 0, 0], [-1, 1, 0], [0, 0, 0]],  # columns: scratches, edges
    ],
    dtype=torch.float32,
)[:, None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/embedded-era"),
        help="folder for era.safetensors, config.json and loss.csv",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-4)
    parser.add_argument("--pool", type=int, default=4096, help="samples held in memory")
    parser.add_argument("--refresh", type=int, default=8, help="fresh samples per step")
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop early; 0: never")
    parser.add_argument(
        "--stop-after", type=int, default=0, help="stop at this step, keeping the --steps schedule"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--init", type=Path, default=None, help="start from the model in this folder (fine-tune)"
    )
    parser.add_argument(
        "--pure-noise", type=float, default=0.2, help="share of the batch at level 1 (pure noise)"
    )
    parser.add_argument(
        "--stats-weight",
        type=float,
        default=0.0,
        help="weight of the image-statistics term (saturation, contrast, line energy)",
    )
    parser.add_argument(
        "--scanline-stat",
        action="store_true",
        help="add the alternate-row amplitude to the image statistics",
    )
    parser.add_argument("--identity", default="embedded:era-v1", help="name written to config")
    parser.add_argument("--clip", type=float, default=0.0, help="clip the gradient norm; 0: never")
    parser.add_argument(
        "--distill-from",
        type=Path,
        default=None,
        help="a model folder: pure-noise examples learn its few-step sample instead of a record",
    )
    parser.add_argument("--distill-steps", type=int, default=2)
    parser.add_argument("--distill-guidance", type=float, default=2.0)


def texture_energy(x: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` → ``(B, 3 kernels × 3 channels)`` RMS filter responses."""
    b, c, h, w = x.shape
    r = F.conv2d(x.reshape(b * c, 1, h, w), _KERNELS)
    return r.pow(2).mean(dim=(2, 3)).add(1e-6).sqrt().reshape(b, -1)


_LUMA = torch.tensor([0.299, 0.587, 0.114])[None, :, None, None]
_ALTERNATE = torch.tensor([1.0, -1.0]).repeat(512)  # +1 on even rows, -1 on odd ones


def _lines(profile: torch.Tensor) -> torch.Tensor:
    d2 = profile[:, 1:-1] - 0.5 * (profile[:, :-2] + profile[:, 2:])
    return d2.pow(2).mean(dim=1).add(1e-8).sqrt()


def image_stats(x: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` in -1..1 → ``(B, 7)`` whole-image statistics, in 0..1 units:
    saturation, the three channels' contrast, line energy across rows and columns (×10,
    to weigh like the others) and the alternate-row amplitude of scanlines (×20). A
    regression to the clean record averages these away (the mean of many records is
    greyer, flatter and smoother than any one), so matching them per image keeps one-step
    frames looking like a record of their year."""
    x = x.add(1).mul(0.5).clamp(0.0, 1.0)  # as the frame will be shown
    hi, lo = x.amax(dim=1), x.amin(dim=1)
    saturation = ((hi - lo) / (hi + 0.1)).mean(dim=(1, 2))
    contrast = x.std(dim=(2, 3))
    y = (x * _LUMA).sum(dim=1)
    rows = y.mean(dim=2)
    lines = torch.stack([_lines(rows), _lines(y.mean(dim=1))], dim=1).mul(10)
    alternate = (rows - rows.mean(dim=1, keepdim=True)) * _ALTERNATE[: rows.shape[1]]
    scanlines = alternate.mean(dim=1).abs().mul(20)
    return torch.cat([saturation[:, None], contrast, lines, scanlines[:, None]], dim=1)


def loss_fn(
    pred: torch.Tensor, x0: torch.Tensor, scanlines: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pixel MSE, the texture-statistics term and the image-statistics term (with the
    alternate-row amplitude when ``scanlines``)."""
    mse = (pred - x0).pow(2).mean()
    texture = (texture_energy(pred) - texture_energy(x0)).abs().mean()
    used = None if scanlines else -1
    stats = (image_stats(pred) - image_stats(x0))[:, :used].abs().mean()
    return mse, texture, stats


@torch.no_grad()
def teacher_sample(
    teacher: EraDenoiser,
    noise: torch.Tensor,
    years: torch.Tensor,
    words: torch.Tensor,
    keep: torch.Tensor,
    steps: int,
    guidance: float,
) -> torch.Tensor:
    """What ``teacher`` draws from ``noise`` in ``steps`` steps with ``guidance``, as the
    generator draws a fresh frame (a row whose condition is dropped gets no guidance)."""
    x = torch.zeros_like(noise)
    null = torch.zeros_like(keep)
    for i, level in enumerate(schedule(1.0, steps)):
        x_t = (1 - level) * x + level * (noise if i == 0 else torch.randn_like(noise))
        t = torch.full((len(noise),), level)
        x = teacher(x_t, t, years, words, keep)
        if guidance > 0:
            x = x + guidance * (x - teacher(x_t, t, years, words, null))
    return x.clamp(-1.0, 1.0)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; returns an exit status (0)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _train(args)
    finally:
        torch.set_num_threads(threads)


def _train(args: argparse.Namespace) -> int:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = EraDenoiser(ModelConfig())
    if args.init is not None:
        model, init_meta = load(args.init)
        model.train()
        args.init = f"{args.init} ({init_meta.get('identity')})"
    ema = copy.deepcopy(model).eval()
    teacher = None if args.distill_from is None else load(args.distill_from)[0]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    images, years, words = dataset.batch(args.seed, args.pool)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "loss.csv").open("w", newline="")
    writer = csv.writer(log)
    writer.writerow(["step", "seconds", "mse", "texture", "stats", "lr"])
    start = last_save = time.monotonic()
    step = 0
    for step in range(1, args.steps + 1):
        # 1. Refresh part of the pool with new records
        fresh = dataset.batch(args.seed * 1_000_003 + step, args.refresh)
        slots = rng.integers(0, args.pool, args.refresh)
        images[slots], years[slots], words[slots] = fresh
        # 2. Draw a batch, noise it to random levels (a fifth at pure noise)
        idx = rng.integers(0, args.pool, args.batch)
        x0 = to_tensor(images[idx])
        t = torch.rand(args.batch).mul(0.98).add(0.02)
        t[torch.rand(args.batch) < args.pure_noise] = 1.0
        x_t = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * torch.randn_like(x0)
        keep = (torch.rand(args.batch) > 0.15).float()
        w = torch.from_numpy(words[idx]) * (torch.rand(args.batch, 1) > 0.5).float()
        # 3. Predict the clean record, step, follow with the EMA
        lr = (
            args.lr
            * min(1.0, step / 200)
            * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / args.steps)))
        )
        for group in opt.param_groups:
            group["lr"] = lr
        year = torch.from_numpy(years[idx])
        pure = t == 1.0
        if teacher is not None and bool(pure.any()):  # distillation: learn the teacher's draw
            x0 = x0.clone()
            x0[pure] = teacher_sample(
                teacher,
                x_t[pure],
                year[pure],
                w[pure],
                keep[pure],
                args.distill_steps,
                args.distill_guidance,
            )
        pred = model(x_t, t, year, w, keep)
        mse, texture, stats = loss_fn(pred, x0, args.scanline_stat)
        opt.zero_grad(set_to_none=True)
        (mse + 0.5 * texture + args.stats_weight * stats).backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                pe.lerp_(pm, 1 - decay)
        elapsed = time.monotonic() - start
        writer.writerow(
            [
                step,
                f"{elapsed:.1f}",
                f"{mse.item():.5f}",
                f"{texture.item():.5f}",
                f"{stats.item():.5f}",
                f"{lr:.6f}",
            ]
        )
        # 4. Checkpoint every few minutes, and stop on the time limit
        done = (args.max_minutes > 0 and elapsed > 60 * args.max_minutes) or step == args.stop_after
        if time.monotonic() - last_save > 60 * args.checkpoint_minutes or done:
            _checkpoint(ema, out, args, step, elapsed)
            log.flush()
            last_save = time.monotonic()
        if done:
            break
    _checkpoint(ema, out, args, step, time.monotonic() - start)
    log.close()
    return 0


def _checkpoint(
    ema: EraDenoiser, out: Path, args: argparse.Namespace, step: int, seconds: float
) -> None:
    meta = {
        "identity": args.identity,
        "training": {
            "method": "direct x0-prediction, texture-statistics loss, condition dropout 0.15, EMA"
            + (", image-statistics loss" if args.stats_weight > 0 else "")
            + (", distillation" if args.distill_from else ""),
            "init": str(args.init) if args.init else None,
            "pure_noise": args.pure_noise,
            "stats_weight": args.stats_weight,
            "scanline_stat": args.scanline_stat,
            "clip": args.clip,
            "distill_from": str(args.distill_from) if args.distill_from else None,
            "distill_steps": args.distill_steps,
            "distill_guidance": args.distill_guidance,
            "seed": args.seed,
            "steps_done": step,
            "steps_planned": args.steps,
            "batch": args.batch,
            "lr": args.lr,
            "seconds": round(seconds, 1),
            "threads": args.threads,
        },
    }
    save(ema, out, meta)
    print(f"step {step}  {seconds / 60:.1f} min  checkpoint -> {out}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
