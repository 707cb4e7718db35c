"""What each ``performer`` command does, from its parsed arguments (see :mod:`performer.cli`).

``play`` builds a :class:`~performer.show.Show` from the arguments; ``render`` renders
offline on a fake clock, or replays a take; ``takes``, ``devices``, ``probe`` and
``train-embedded`` report or hand over to their own modules.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from performer.control.params import param

log = logging.getLogger("performer")


def play(args: argparse.Namespace) -> int:
    from performer import patch as patches
    from performer.render.surface import SurfaceChoice
    from performer.show import Show

    patch = patches.load(args.patch)
    model = args.model or patch.model
    shaping = conditioning(args, patch)
    show = Show(
        patch,
        _generator(args, model, shaping),
        inputs=_inputs(args),
        video_in=args.input or patch.input,
        video_out=args.output or list(patch.outputs),
        surface=SurfaceChoice(args.headless, args.fullscreen, args.monitor, not args.no_vsync),
        fps=args.fps,
        display_fps=args.display_fps,
        takes=args.takes,
        record=args.record,
        av_delay=None if args.av_delay is None else args.av_delay / 1000.0,
        overrides=_overrides(args, patch),
        model=model,
        conditioning=shaping,
    )
    drawn = show.play(args.seconds)
    return 0 if drawn or show.seen else 1  # headless, no picture at all: the show could not go on


def _inputs(args: argparse.Namespace) -> Any:
    from performer.inputs import InputOptions

    return InputOptions(
        osc_host=args.osc_host,
        osc_port=None if args.no_osc else args.osc_port,
        osc_allow=args.osc_allow,
        oscquery_port=None if args.no_oscquery else args.oscquery_port,
        mdns=args.mdns,
        midi=args.midi,
        midi_virtual=not args.no_midi_virtual,
        link=args.link,
        audio_in=args.audio_in,
        audio_channels=args.audio_channels,
        audio_through=args.audio_through,
    )


def render(args: argparse.Namespace) -> int:
    """Offline on a fake clock, every frame generated; or, with a take, its replay."""
    from performer import patch as patches
    from performer.control.clock import FakeClock
    from performer.offline import render_to_file
    from performer.session import Session

    if args.take is not None:
        return _replay(args)
    patch = patches.load(args.patch)
    model = args.model or patch.model
    generator = _generator(args, model, conditioning(args, patch))
    clock = FakeClock()
    source = _offline_input(args.input or patch.input, clock)
    overrides = _overrides(args, patch)
    session = Session(patch, generator, clock, overrides=overrides, model=model, source=source)
    log.info("loading %s for patch %r", model or "the embedded model", patch.name)
    session.prepare()
    try:
        size = (session.store.get("width"), session.store.get("height"))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        written = render_to_file(session, args.out, args.frames, args.fps, size)
        log.info("wrote %d frames to %s", written, args.out)
        return 0
    finally:
        session.close()
        if source is not None:
            source.stop()


def _offline_input(spec: str | None, clock: Any) -> Any:
    """Offline, a file input is read frame-exact on the fake clock (frame N of the
    render from frame N of the file, at the same fps); a live source plays as it comes."""
    if spec is None:
        return None
    from performer.control.video.file import FileSource
    from performer.offline import FrameExact
    from performer.video import open_input

    source = open_input(spec, clock)
    if isinstance(source, FileSource):
        return FrameExact(source, clock)  # opens the file before the model loads
    source.start()
    return source


def _replay(args: argparse.Namespace) -> int:
    from performer.replay import replay
    from performer.take import read_take

    info = read_take(args.take).info
    shaping = _replayed(args, info)
    generator = _generator(args, args.model or info.get("model_arg"), shaping)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = replay(args.take, generator, args.out, _overrides(args))
    log.info(
        "replayed %d generated frames; wrote %d pictures to %s",
        result.frames,
        result.pictures,
        args.out,
    )
    if result.compared:
        log.info("%d of %d frames bit-identical to the take", result.identical, result.compared)
    if result.unfed:
        log.warning("%d frames were made without their recorded input", result.unfed)
    return 0


def _replayed(args: argparse.Namespace, info: dict[str, Any]) -> dict[str, Any]:
    """What shaped the take's picture, as its ``take.json`` records it, each part the
    command line gives instead replaced (a --lora of a LoRA's name replaces that one);
    a file or folder of it that is gone is one :class:`TakeError` before the model loads."""
    from performer.take import TakeError
    from performer.take.conditioning import as_played, gone, recorded

    given = conditioning(args)
    played = recorded(info, args.take, given)
    chosen = {**given, **played, **{key: value for key, value in given.items() if value}}
    shaping = as_played({**chosen, "loras": _loras(args, played.get("loras", ()))})
    missing = gone(shaping)
    if missing:
        raise TakeError(
            f"{args.take}: the take was played with {missing[0]}, which is gone "
            "(moved or deleted); give render the option that names another"
        )
    return shaping


def _generator(
    args: argparse.Namespace, model: str | None, shaping: dict[str, Any] | None = None
) -> Any:
    """The generator for ``model`` with what shapes its picture (:func:`conditioning`)."""
    from performer.generators import load_generator

    _set_threads(args.threads, model)
    return load_generator(
        model,
        **(conditioning(args) if shaping is None else shaping),
        device=args.device,
        fast={
            "compile": args.compile or False,
            "cuda_graphs": args.cuda_graphs,
            "stream_batch": args.stream_batch,
            "similarity_skip": args.similarity_skip,
            "cfg": "self" if args.self_cfg else None,
        },
    )


def conditioning(args: argparse.Namespace, patch: Any = None) -> dict[str, Any]:
    """The keyword arguments of ``load_generator`` that shape the picture, from the
    command line, else the patch: what play, render and probe load and a take records
    (JSON values only; files as absolute paths, :mod:`performer.take.conditioning`)."""
    from performer.take.conditioning import as_played

    return as_played(
        dict(
            tiny_vae=args.tiny_vae or (patch.tiny_vae if patch else None),
            lora=args.lora or (patch.lora if patch else None),
            loras=_loras(args, patch.loras if patch else ()),
            controlnets=args.controlnets or (patch.controlnets if patch else ()),
            control_image=args.control_image or (patch.control_image if patch else None),
            ip_adapter=args.ip_adapter or (patch.ip_adapter if patch else None),
            ip_image=args.ip_image or (patch.ip_image if patch else None),
        )
    )


def _loras(args: argparse.Namespace, before: Any) -> list[tuple[str, str]]:
    """The live LoRAs: ``before`` (the patch's, the take's), each replaced by a --lora
    of the same name, and the other --lora."""
    given = {name: source for source, name in before}
    given.update({name: source for source, name in args.loras})
    return [(source, name) for name, source in given.items()]


def _set_threads(threads: int | None, model: str | None) -> None:
    import torch

    if threads is None and not model:
        threads = 1  # measured: bench/recording_cost.py, docs/benchmarks.md
    if threads is not None:
        torch.set_num_threads(max(1, threads))


def _overrides(args: argparse.Namespace, patch: Any = None) -> dict[str, Any]:
    overrides = dict(args.sets)
    asked = getattr(args, "input", None) or (patch is not None and patch.input)
    if asked and patch is not None and "input_mix" not in patch.params:
        overrides.setdefault("input_mix", 1.0)  # asked for an input: start from it
    for name in ("width", "height", "steps"):
        if getattr(args, name) is not None:
            overrides[name] = param(name).check(getattr(args, name))
    return overrides


def takes(args: argparse.Namespace) -> int:
    from performer.take import list_takes

    root: Path = args.takes
    found = list_takes(root)
    if not found:
        print(f"no takes in {root}/ (record with: performer play --record)")
    for t in found:
        print(f"{t.folder}  {t.seconds:7.1f} s  {t.frames:6d} frames  {t.started}  {t.patch}")
    return 0


def devices(args: argparse.Namespace) -> int:
    from performer.devices import report

    print(report(ndi=args.ndi))
    return 0


def probe(args: argparse.Namespace) -> int:
    from performer.probe import cli as probing

    return probing.run(args)


def train_embedded(args: argparse.Namespace) -> int:
    from performer.embedded import train as training

    return training.run(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "play": play,
    "render": render,
    "takes": takes,
    "devices": devices,
    "probe": probe,
    "train-embedded": train_embedded,
}
