"""Train the embedded era model on CPU: ``performer train-embedded``.

Direct x0-prediction over continuous noise levels (see :mod:`.model`), so every level
the few-step schedule visits is trained and one evaluation gives a frame. The loss
(:mod:`.loss`) is pixel MSE plus a texture-statistics term (per-image energy of a
Laplacian and of vertical/horizontal differences), because MSE alone averages grain,
scratches and scanlines away and those are much of what marks a medium. Fine-tuning
stages add an image-statistics term (soft saturation, contrast, line energy, scanline
amplitude; see :func:`.loss.image_stats`) that keeps one-step frames from flattening
into the mean record, or learn a teacher's few-step draw (``--distill-from``). The
condition (year and words) is dropped to a learned null 15% of the time, so guidance
has something to contrast; words alone are dropped half the time, so they stay optional.

Data is made on the fly: a pool of samples from :mod:`.dataset`, part of which is
replaced with fresh samples every step. A checkpoint (EMA weights) and the loss log are
written every few minutes, so a usable model exists whenever training is stopped.
"""

from __future__ import annotations

import argparse
import copy
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from performer.embedded import dataset
from performer.embedded.loss import loss_fn, teacher_sample, to_tensor
from performer.embedded.model import EraDenoiser, ModelConfig
from performer.embedded.weights import load, save

#: the records one run holds: images, years, words (see :func:`dataset.batch`)
Pool = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Batch:
    """A batch of records noised to random levels, with the condition as the model takes it."""

    x0: torch.Tensor  # the clean records, (B, 3, H, W) in -1..1
    x_t: torch.Tensor  # noised to level t
    t: torch.Tensor
    year: torch.Tensor
    words: torch.Tensor  # multi-hot, dropped for half the batch
    keep: torch.Tensor  # 0 where the whole condition is dropped to the learned null


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
    model, teacher = _models(args)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    pool = dataset.batch(args.seed, args.pool)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with (out / "loss.csv").open("w", newline="") as log:
        writer = csv.writer(log)
        writer.writerow(["step", "seconds", "mse", "texture", "stats", "lr"])
        start = last_save = time.monotonic()
        step = 0
        for step in range(1, args.steps + 1):
            # 1. Refresh part of the pool with new records
            _refresh(pool, args, rng, step)
            # 2. Draw a batch, noise it to random levels (a fifth at pure noise)
            batch = _draw(pool, args, rng)
            # 3. Predict the clean record, step, follow with the EMA
            lr = learning_rate(args, step)
            losses = _step(model, opt, teacher, batch, args, lr)
            _follow(ema, model, step)
            elapsed = time.monotonic() - start
            writer.writerow([step, f"{elapsed:.1f}", *(f"{v:.5f}" for v in losses), f"{lr:.6f}"])
            # 4. Checkpoint every few minutes, and stop on the time limit
            done = (args.max_minutes > 0 and elapsed > 60 * args.max_minutes) or (
                step == args.stop_after
            )
            if time.monotonic() - last_save > 60 * args.checkpoint_minutes or done:
                _checkpoint(ema, out, args, step, elapsed)
                log.flush()
                last_save = time.monotonic()
            if done:
                break
        _checkpoint(ema, out, args, step, time.monotonic() - start)
    return 0


def _models(args: argparse.Namespace) -> tuple[EraDenoiser, EraDenoiser | None]:
    """The model to train (fresh, or ``--init``'s) and the ``--distill-from`` teacher."""
    model = EraDenoiser(ModelConfig())
    if args.init is not None:
        model, init_meta = load(args.init)
        model.train()
        args.init = f"{args.init} ({init_meta.get('identity')})"
    teacher = None if args.distill_from is None else load(args.distill_from)[0]
    return model, teacher


def _refresh(pool: Pool, args: argparse.Namespace, rng: np.random.Generator, step: int) -> None:
    """Replace ``--refresh`` records of the pool with fresh ones."""
    images, years, words = pool
    fresh = dataset.batch(args.seed * 1_000_003 + step, args.refresh)
    slots = rng.integers(0, args.pool, args.refresh)
    images[slots], years[slots], words[slots] = fresh


def _draw(pool: Pool, args: argparse.Namespace, rng: np.random.Generator) -> Batch:
    """A batch from the pool, noised to levels 0.02..1 (``--pure-noise`` of it at 1), the
    condition dropped 15% of the time and the words half the time."""
    images, years, words = pool
    idx = rng.integers(0, args.pool, args.batch)
    x0 = to_tensor(images[idx])
    t = torch.rand(args.batch).mul(0.98).add(0.02)
    t[torch.rand(args.batch) < args.pure_noise] = 1.0
    x_t = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * torch.randn_like(x0)
    keep = (torch.rand(args.batch) > 0.15).float()
    w = torch.from_numpy(words[idx]) * (torch.rand(args.batch, 1) > 0.5).float()
    return Batch(x0, x_t, t, torch.from_numpy(years[idx]), w, keep)


def learning_rate(args: argparse.Namespace, step: int) -> float:
    """Warm up over 200 steps, then a cosine down to a tenth of ``--lr`` at ``--steps``."""
    warmup = min(1.0, step / 200)
    return args.lr * warmup * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / args.steps)))


def _step(
    model: EraDenoiser,
    opt: torch.optim.Optimizer,
    teacher: EraDenoiser | None,
    batch: Batch,
    args: argparse.Namespace,
    lr: float,
) -> tuple[float, float, float]:
    """One optimiser step at ``lr``; returns the three loss terms."""
    for group in opt.param_groups:
        group["lr"] = lr
    x0, pure = batch.x0, batch.t == 1.0
    if teacher is not None and bool(pure.any()):  # distillation: learn the teacher's draw
        x0 = x0.clone()
        x0[pure] = teacher_sample(
            teacher,
            batch.x_t[pure],
            batch.year[pure],
            batch.words[pure],
            batch.keep[pure],
            args.distill_steps,
            args.distill_guidance,
        )
    pred = model(batch.x_t, batch.t, batch.year, batch.words, batch.keep)
    mse, texture, stats = loss_fn(pred, x0, args.scanline_stat)
    opt.zero_grad(set_to_none=True)
    (mse + 0.5 * texture + args.stats_weight * stats).backward()
    if args.clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    opt.step()
    return mse.item(), texture.item(), stats.item()


@torch.no_grad()
def _follow(ema: EraDenoiser, model: EraDenoiser, step: int) -> None:
    """Move the EMA weights towards the model's (decay rising to 0.999)."""
    decay = min(0.999, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
        pe.lerp_(pm, 1 - decay)


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
