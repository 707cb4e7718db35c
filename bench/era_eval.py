"""Is era learned? Probe the embedded model with an era classifier trained on the dataset.

    .venv/bin/python bench/era_eval.py [--folder performer/embedded] [--per-bucket 50]

1. Train a softmax-regression era classifier on dataset records only (10 buckets).
2. Generate frames with the shipped model at each bucket's centre year (fresh frames:
   reset, timestep 1), and classify them: accuracy is how often the conditioned bucket
   comes back (chance 10%).
3. Per bucket, average saturation, warmth, grain and scanline energy over dataset
   records and over generated frames; print the Spearman rank correlation of the two.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from performer.embedded import dataset, stats
from performer.embedded.classifier import (
    BUCKETS,
    EraClassifier,
    bucket_centres,
    bucket_of,
    spearman,
)
from performer.generators.base import Setup
from performer.generators.embedded import EmbeddedGenerator
from performer.params import Snapshot, defaults


def generated(
    folder: Path | None, years: np.ndarray, per: int, steps: int, guidance: float
) -> np.ndarray:
    gen = EmbeddedGenerator(folder)
    gen.prepare(Setup())
    snap = Snapshot(defaults()).replace(timestep=1.0, steps=steps, guidance=guidance, prompt="")
    frames = []
    for year in years:
        for k in range(per):
            gen.reset()
            frames.append(gen(snap.replace(era=float(year), seed=10_000 + k)))
    return np.stack(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folder", type=Path, default=None, help="model folder; default: the package's"
    )
    parser.add_argument("--train", type=int, default=4000, help="dataset records to train on")
    parser.add_argument("--per-bucket", type=int, default=50)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--guidance", type=float, nargs="+", default=[0.0, 2.0])
    args = parser.parse_args()
    start = time.monotonic()
    images, years, _ = dataset.batch(seed=12345, n=args.train)
    clf = EraClassifier.fit(images, years)
    held_images, held_years, _ = dataset.batch(seed=54321, n=1000)
    held = float((clf.predict(held_images) == bucket_of(held_years)).mean())
    print(f"classifier on held-out dataset records: {held:.1%}")
    centres = bucket_centres()
    truth = np.repeat(np.arange(BUCKETS), args.per_bucket)
    data = np.stack(
        [dataset.sample(20_000 + k, float(y)) for y in centres for k in range(args.per_bucket)]
    )
    data_stats = stats.named(data).reshape(BUCKETS, args.per_bucket, -1).mean(axis=1)
    for steps in args.steps:
        for guidance in args.guidance:
            frames = generated(args.folder, centres, args.per_bucket, steps, guidance)
            acc = float((clf.predict(frames) == truth).mean())
            gen_stats = stats.named(frames).reshape(BUCKETS, args.per_bucket, -1).mean(axis=1)
            rhos = [spearman(data_stats[:, i], gen_stats[:, i]) for i in range(len(stats.NAMED))]
            rho_text = "  ".join(f"{n} {r:+.3f}" for n, r in zip(stats.NAMED, rhos, strict=True))
            print(
                f"steps {steps} guidance {guidance:g}: era recovered {acc:.1%}  rank corr: {rho_text}"
            )
    print(f"({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
