"""Is era learned? Probe the embedded model with era classifiers trained on the dataset.

    .venv/bin/python bench/era_eval.py [--folder performer/embedded] [--per-bucket 50]

1. Train two simple era classifiers (nearest centroid, softmax regression; 10 buckets of
   19 years) on dataset records only, and check them on held-out records.
2. Generate frames with the model at each bucket's centre year and classify them:
   accuracy is how often the conditioned bucket comes back (chance 10%). Frames are
   made two ways: *fresh* (reset, timestep 1: a frame from noise alone) and *live*
   (the loop as played: a fresh frame, then ``--loop`` frames of feedback at timestep
   0.6, the last one kept; 1 and 2 steps).
3. Per bucket, average soft saturation, warmth, texture and line energy over dataset
   records and over generated frames; print the Spearman rank correlation of the two.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from performer.control.params import Snapshot, defaults

from performer.embedded import dataset, stats
from performer.embedded.classifier import (
    BUCKETS,
    EraClassifier,
    NearestCentroid,
    bucket_centres,
    bucket_of,
)
from performer.generators.base import Setup
from performer.generators.embedded import EmbeddedGenerator
from performer.probe.reference import spearman


def generated(
    gen: EmbeddedGenerator, years: np.ndarray, per: int, snap: Snapshot, loop: int
) -> np.ndarray:
    frames = []
    for year in years:
        for k in range(per):
            s = snap.replace(era=float(year), seed=10_000 + k)
            gen.reset()
            frame = gen(s.replace(timestep=1.0))
            for _ in range(loop):
                frame = gen(s)
            frames.append(frame)
    return np.stack(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None, help="default: the package's")
    parser.add_argument("--train", type=int, default=4000, help="dataset records to train on")
    parser.add_argument("--per-bucket", type=int, default=50)
    parser.add_argument("--loop", type=int, default=6, help="feedback frames for 'live'")
    parser.add_argument(
        "--only", default="", help="a few settings, e.g. 'fresh:1:0,live:1:0' (mode:steps:guidance)"
    )
    args = parser.parse_args()
    start = time.monotonic()
    images, years, _ = dataset.batch(seed=12345, n=args.train)
    classifiers: dict[str, NearestCentroid | EraClassifier] = {
        "centroid": NearestCentroid.fit(images, years),
        "softmax": EraClassifier.fit(images, years),
    }
    held_images, held_years, _ = dataset.batch(seed=54321, n=1000)
    for name, clf in classifiers.items():
        held = float((clf.predict(held_images) == bucket_of(held_years)).mean())
        print(f"{name} classifier on 1000 held-out dataset records: {held:.1%}")
    centres = bucket_centres()
    truth = np.repeat(np.arange(BUCKETS), args.per_bucket)
    data = np.stack(
        [dataset.sample(20_000 + k, float(y)) for y in centres for k in range(args.per_bucket)]
    )
    for name, clf in classifiers.items():
        acc = float((clf.predict(data) == truth).mean())
        print(f"{name} on dataset records at the bucket centres: {acc:.1%}")
    data_stats = stats.named(data).reshape(BUCKETS, args.per_bucket, -1).mean(axis=1)
    gen = EmbeddedGenerator(args.folder)
    gen.prepare(Setup())
    base = Snapshot(defaults()).replace(prompt="", timestep=0.6)
    print(f"model {gen.identity}; {args.per_bucket} frames per bucket")
    settings = [
        (mode, steps, guidance)
        for mode, step_counts in (("fresh", (1, 2, 4)), ("live", (1, 2)))
        for steps in step_counts
        for guidance in (0.0, 2.0)
    ]
    if args.only:
        settings = [
            (m, int(s), float(g)) for m, s, g in (x.split(":") for x in args.only.split(","))
        ]
    for mode, steps, guidance in settings:
        loop = args.loop if mode == "live" else 0
        snap = base.replace(steps=steps, guidance=guidance)
        frames = generated(gen, centres, args.per_bucket, snap, loop)
        accs = "  ".join(
            f"{name} {(clf.predict(frames) == truth).mean():.1%}"
            for name, clf in classifiers.items()
        )
        gen_stats = stats.named(frames).reshape(BUCKETS, args.per_bucket, -1).mean(axis=1)
        rhos = "  ".join(
            f"{n} {spearman(data_stats[:, i], gen_stats[:, i]):+.3f}"
            for i, n in enumerate(stats.NAMED)
        )
        print(f"{mode:5s} steps {steps} guidance {guidance:g}: era {accs} | rank corr {rhos}")
    print(f"({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
