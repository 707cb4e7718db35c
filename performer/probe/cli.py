"""``performer probe``: lay one prompt and a few seeds out across eras (or any parameter).

    performer probe --prompt "a family at dinner" --eras 1850:2030:10 --seeds 4 --out probe/
    performer probe --sweep guidance=0:6:1 --model stabilityai/sd-turbo
    performer probe --sweep control_strength:0:2:5 --controlnet ./lineart --model ...
    performer probe --sweep lora_ink:0:2:5 --lora ./ink.safetensors:ink --model ...

A sweep is ``NAME=START:STOP:STEP`` (stop included when the step lands on it),
``NAME=A,B,C`` or ``NAME:START:STOP:COUNT`` (COUNT evenly spaced values, stop included):
see :mod:`performer.probe.sweep`. The probe loads the model with what shapes its
picture as ``play`` does (:func:`performer.run.conditioning`: ``--lora``,
``--controlnet`` and the patch's ``[[loras]]`` and ``[[controlnets]]``), so a LoRA's
knob ``lora_<name>`` and ``control_strength`` sweep like any other.

``add_arguments(parser)`` declares the options on a (sub)parser; ``run(args)`` does the
probe and returns the exit status (2 with a one-line message for a bad patch, model,
parameter or output folder).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from performer.control.param import ParamError
from performer.control.params import Snapshot, defaults, param
from performer.options import add_model_options

if TYPE_CHECKING:
    from performer.generators import Generator
    from performer.patch import Patch
    from performer.probe.report import Extras
    from performer.probe.sweep import ProbeResult, Sweep

log = logging.getLogger("performer.probe")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompt", help="what every frame shows (default: the patch's prompt)")
    parser.add_argument(
        "--eras",
        default="1850:2030:10",
        metavar="START:STOP:STEP",
        help="years to sweep, stop included, or a list 1850,1925,1985 (default: %(default)s)",
    )
    parser.add_argument(
        "--sweep",
        metavar="NAME=VALUES",
        help="sweep another parameter instead of era: NAME=START:STOP:STEP (e.g. "
        "guidance=0:6:1), NAME=A,B,C, or NAME:START:STOP:COUNT for COUNT evenly spaced "
        "values, stop included (e.g. control_strength:0:2:5 is 0, 0.5, 1, 1.5, 2); a "
        "LoRA's knob lora_NAME too",
    )
    parser.add_argument("--seeds", type=int, default=4, help="rows of the sheet (default: 4)")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first row")
    parser.add_argument("--out", type=Path, default=Path("probe"), help="output folder")
    parser.add_argument("--patch", default="default", help="patch name or .toml path")
    add_model_options(
        parser, set_help="hold a parameter at a value, e.g. --set guidance=1.5 (repeatable)"
    )
    parser.add_argument(
        "--cell", type=int, help="sheet cell size in pixels (default: fit about 1500 wide)"
    )
    parser.add_argument(
        "--reference",
        choices=("auto", "on", "off"),
        default="auto",
        help="compare with the embedded model's training records (auto: on for that model)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads for the model during the probe (default: 1 for the embedded "
        "model, whose 64x64 frames gain nothing from more and lose a lot on a busy "
        "machine; torch's own for other models)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--take",
        type=Path,
        metavar="LOG",
        help="instead of sweeping: report the live captures of a take (its folder or log)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="PROBE_JSON",
        help="with --take: a probe.json of the same model, to show the era each frame looked like",
    )


def run(args: argparse.Namespace) -> int:
    from performer.generators import GeneratorError
    from performer.patch import PatchError

    try:
        report = take_report(args) if args.take else probe(args)
    except (PatchError, GeneratorError, ParamError, ValueError, OSError) as exc:
        print(f"performer probe: error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0


@contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's CPU thread count set to ``threads`` for the block, then restored."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise ValueError(f"--threads: expected at least 1, got {threads}")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def take_report(args: argparse.Namespace) -> Path:
    """The HTML page of a take's ``/performer/probe`` captures."""
    from performer.probe.capture import read_captures
    from performer.probe.report import write_take

    probe = None
    if args.against:
        try:
            probe = json.loads(args.against.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{args.against}: not JSON ({exc.msg})") from None
    return write_take(read_captures(args.take), args.out, f"take {args.take.name}", probe)


def probe(args: argparse.Namespace) -> Path:
    """Do the probe ``args`` describe; returns the HTML report's path."""
    from performer import patch as patches
    from performer.probe.report import write_probe

    if args.seeds < 1:
        raise ValueError(f"--seeds: expected at least 1, got {args.seeds}")
    seeds = [param("seed").check(args.first_seed + i) for i in range(args.seeds)]
    patch = patches.load(args.patch)
    generator = _generator(args, patch)  # not loaded yet; its LoRAs' knobs are declared
    try:
        sweep = _sweep(args)
        base = _fixed(args, patch)
        args.out.mkdir(parents=True, exist_ok=True)
        result = _generate(args, generator, patch, base, sweep, seeds)
    finally:
        generator.close()
    title = f"{base['prompt']!r} across {sweep.name}"
    page = write_probe(result, args.out, title, _extras(args, sweep, result), args.cell)
    log.info("probe: %d frames in %.1f s; wrote %s", len(result.frames), result.seconds, args.out)
    return page


def _sweep(args: argparse.Namespace) -> Sweep:
    """The sweep asked for, once every knob the patch and the LoRAs bring is declared."""
    from performer.probe.sweep import parse_sweep

    sweep = parse_sweep(args.sweep) if args.sweep else parse_sweep(args.eras, "era")
    if args.reference == "on" and sweep.name != "era":
        raise ValueError("--reference on: only an era sweep has training records to compare")
    return sweep


def _generator(args: argparse.Namespace, patch: Patch) -> Generator:
    """The model with what shapes its picture, as ``play`` loads it (not prepared)."""
    from performer.generators import load_generator
    from performer.run import conditioning

    model = args.model or patch.model
    return load_generator(model, **conditioning(args, patch), device=args.device)


def _fixed(args: argparse.Namespace, patch: Patch) -> Snapshot:
    """The parameters held still: defaults, the patch's, ``--set`` and the size options."""
    values = {**defaults(), **patch.params, **dict(args.sets)}
    if args.prompt is not None:
        values["prompt"] = args.prompt
    for name in ("width", "height", "steps"):
        if getattr(args, name) is not None:
            values[name] = param(name).check(getattr(args, name))
    return Snapshot(defaults()).replace(**values)


def _generate(
    args: argparse.Namespace,
    generator: Generator,
    patch: Patch,
    base: Snapshot,
    sweep: Sweep,
    seeds: list[int],
) -> ProbeResult:
    """Load the model, run the sweep and measure the distances between its values."""
    from performer.generators import EMBEDDED, Setup
    from performer.probe import distance
    from performer.probe.sweep import run_sweep

    model = args.model or patch.model
    threads = args.threads
    if threads is None and (not model or model == EMBEDDED):
        threads = 1
    log.info("loading %s", model or "the embedded model")
    setup = Setup(base["width"], base["height"], patch.anchors, patch.template)
    with cpu_threads(threads):
        generator.prepare(setup)
        result = run_sweep(generator, base, sweep, seeds, progress=not args.no_progress)
        result.distances["stats"] = distance.stat_distance(result)
        text = distance.text_distance(generator, base, sweep, seeds[0])
        if text is not None:
            result.distances["text"] = text
    return result


def _extras(args: argparse.Namespace, sweep: Sweep, result: ProbeResult) -> Extras:
    """The training records' means and Spearman's rho, where they apply."""
    from performer.probe import distance, reference
    from performer.probe.report import Extras

    extras = Extras()
    wanted = args.reference == "on" or (
        args.reference == "auto" and reference.is_embedded(result.identity)
    )
    if wanted and sweep.name == "era":
        extras.reference_name = "the embedded model's training records"
        extras.reference = reference.dataset_means(sweep.values, distance.DISTANCE_KEYS)
        extras.agreement = reference.agreement(result, extras.reference)
        for key, rho in extras.agreement.items():
            log.info("spearman %s vs training records: %.3f", key, rho)
    return extras
