"""The probe on the embedded model: time of the 19 eras × 4 seeds probe, and the
ground-truth figures (Spearman's rho against the training records) for docs/probe.md.

    .venv/bin/python bench/probe_embedded.py [--seeds 4] [--out /tmp/probe --docs docs/probe]

Times the sweep alone (generation + statistics, what the progress bar shows) and the
whole probe with every file written; with ``--out`` it also writes the report there,
and with ``--docs`` the figures of docs/probe.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import torch
from performer.control.params import Snapshot, defaults
from PIL import Image

from performer.generators import Setup, load_generator
from performer.generators.embedded import EmbeddedGenerator
from performer.probe.distance import DISTANCE_KEYS, stat_distance
from performer.probe.plots import grid
from performer.probe.reference import SIGNATURE_KEYS, agreement, dataset_means
from performer.probe.report import Extras, write_probe
from performer.probe.sweep import parse_sweep, run_sweep


def figures(report: Path, docs: Path) -> None:
    """The sheet, six plots side by side and the distance map, from a written report."""
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copy(report / "sheet.png", docs / "sheet.png")
    shutil.copy(report / "distance-stats.png", docs / "distance.png")
    keys = ("saturation", "warmth", "scanline", "grain", "vignette", "hue")
    grid([Image.open(report / "plots" / f"{k}.png") for k in keys], 3).save(docs / "plots.png")
    print(f"figures in {docs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--eras", default="1850:2030:10")
    parser.add_argument("--prompt", default="a street with people, houses and a car")
    parser.add_argument("--scenes", type=int, default=64, help="training records per era")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--folder", type=Path, help="weights folder (default: the package's)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--docs", type=Path, help="also write the figures of docs/probe.md here")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"cpu threads: torch {torch.get_num_threads()}, os {os.cpu_count()}")
    started = time.perf_counter()
    generator = EmbeddedGenerator(args.folder) if args.folder else load_generator(None)
    generator.prepare(Setup())
    loaded = time.perf_counter() - started
    sweep = parse_sweep(args.eras)
    base = Snapshot(defaults()).replace(prompt=args.prompt)
    result = run_sweep(generator, base, sweep, range(args.seeds))
    frames = len(result.frames)
    print(f"model {result.identity}: load {loaded:.2f} s")
    print(f"sweep: {len(sweep.values)} eras x {args.seeds} seeds = {frames} frames")
    print(f"       {result.seconds:.2f} s ({frames / result.seconds:.1f} frames/s)")

    t = time.perf_counter()
    records = dataset_means(sweep.values, DISTANCE_KEYS, scenes=args.scenes)
    rho = agreement(result, records, SIGNATURE_KEYS)
    print(f"training records measured in {time.perf_counter() - t:.2f} s")
    for key, value in rho.items():
        print(f"spearman {key:<11} {value:+.3f}")
    if args.out:
        t = time.perf_counter()
        result.distances["stats"] = stat_distance(result)
        extras = Extras(records, "the embedded model's training records", rho)
        page = write_probe(result, args.out, f"{args.prompt!r} across era", extras)
        print(f"report written in {time.perf_counter() - t:.2f} s: {page}")
        if args.docs:
            figures(args.out, args.docs)
    print(f"total {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
