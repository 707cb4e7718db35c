"""Figures for docs/embedded-model.md: dataset and generated grids by year, loss curve.

    .venv/bin/python bench/embedded_figures.py --loss runs/s1/loss.csv runs/s2/loss.csv
        runs/s3/loss.csv [--loss-only]

Writes ``docs/embedded/dataset_by_year.png``, ``generated_by_year_{1step,4step,live}.png``
and ``loss.png`` (drawn with Pillow; no plotting library needed).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from performer.control.params import Snapshot, defaults
from PIL import Image, ImageDraw

from performer.embedded import dataset
from performer.generators.base import Setup
from performer.generators.embedded import EmbeddedGenerator

YEARS = np.linspace(1840, 2030, 10)
SCALE = 2


def labelled(grid: np.ndarray, years: np.ndarray) -> Image.Image:
    img = Image.fromarray(grid).resize(
        (grid.shape[1] * SCALE, grid.shape[0] * SCALE), Image.Resampling.NEAREST
    )
    canvas = Image.new("RGB", (img.width, img.height + 14), "white")
    canvas.paste(img, (0, 14))
    draw = ImageDraw.Draw(canvas)
    step = img.width / len(years)
    for i, year in enumerate(years):
        draw.text((i * step + 4, 1), f"{year:.0f}", fill="black")
    return canvas


def generated_grid(rows: int, steps: int, loop: int = 0) -> np.ndarray:
    """Frames by year: a fresh frame (timestep 1), then ``loop`` frames of feedback at 0.6."""
    gen = EmbeddedGenerator()
    gen.prepare(Setup())
    snap = Snapshot(defaults()).replace(timestep=0.6, steps=steps, prompt="")
    out = []
    for seed in range(rows):
        row = []
        for year in YEARS:
            s = snap.replace(era=float(year), seed=seed)
            gen.reset()
            frame = gen(s.replace(timestep=1.0))
            for _ in range(loop):
                frame = gen(s)
            row.append(frame)
        out.append(np.concatenate(row, axis=1))
    return np.concatenate(out, axis=0)


def loss_plot(paths: list[Path], width: int = 720, height: int = 320) -> Image.Image:
    """The loss logs of the training stages one after another, each stage's start marked."""
    rows: list[dict[str, str]] = []
    starts = []  # the first step of each stage on the joined axis
    for path in paths:
        with path.open() as f:
            stage = list(csv.DictReader(f))
        starts.append(len(rows))
        rows.extend(stage)
    series = {"mse": (31, 119, 180), "texture": (255, 127, 14), "stats": (44, 160, 44)}
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    pad = 40
    top = max(
        float(np.quantile([float(r[k]) for r in rows if r.get(k)], 0.99))
        for k in series
        if any(r.get(k) for r in rows)
    )

    def x_of(step: int) -> float:
        return pad + step / max(1, len(rows) - 1) * (width - pad - 10)

    draw.rectangle([pad, 10, width - 10, height - pad], outline="black")
    for n, start in enumerate(starts):
        draw.line([(x_of(start), 10), (x_of(start), height - pad)], fill=(200, 200, 200))
        draw.text((x_of(start) + 4, height - pad - 14), f"stage {n + 1}", fill="black")
    for name, colour in series.items():
        ends = [*starts[1:], len(rows)]
        for start, end in zip(starts, ends, strict=True):
            values = np.array([float(r[name]) for r in rows[start:end] if r.get(name)])
            if not len(values):
                continue  # this stage had no such term
            k = max(1, len(rows) // 300)  # a running mean keeps the curve readable
            smooth = np.convolve(values, np.ones(k) / k, mode="valid")
            xs = [x_of(start + i) for i in range(len(smooth))]
            ys = height - pad - np.clip(smooth / top, 0, 1) * (height - pad - 10)
            draw.line(list(zip(xs, ys.tolist(), strict=True)), fill=colour, width=2)
        draw.text((width - 120, 14 + 12 * list(series).index(name)), name, fill=colour)
    draw.text((pad, height - pad + 6), f"training steps, {len(rows)} in all", fill="black")
    draw.text((4, 12), f"{top:.2f}", fill="black")
    draw.text((4, height - pad - 10), "0", fill="black")
    return img


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--loss", type=Path, nargs="+", required=True, help="each stage's loss.csv, in order"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/embedded"))
    parser.add_argument("--loss-only", action="store_true", help="only draw loss.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    loss_plot(args.loss).save(args.out / "loss.png")
    if args.loss_only:
        return 0
    labelled(dataset.year_grid(4, len(YEARS)), YEARS).save(args.out / "dataset_by_year.png")
    for steps in (1, 4):
        labelled(generated_grid(4, steps), YEARS).save(
            args.out / f"generated_by_year_{steps}step.png"
        )
    labelled(generated_grid(4, 1, loop=6), YEARS).save(args.out / "generated_by_year_live.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
