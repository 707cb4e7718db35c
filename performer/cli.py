"""The ``performer`` command: its arguments. What each command does is in
:mod:`performer.run`; the options and their checks are in :mod:`performer.options`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from performer import options
from performer.control.param import ParamError

EPILOG = """examples:
  performer play                                 the demo patch (plays itself), embedded model
  performer play --model stabilityai/sd-turbo    a diffusers model (downloads once)
  performer play --set era=1985 --set timestep=0.4
  performer render --frames 300 --out take.mp4   offline, frame-exact
  performer devices                              monitors, MIDI ports, audio devices
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="performer",
        description="A real-time audiovisual instrument: few-step diffusion played live.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _play(commands)
    _render(commands)
    takes = commands.add_parser("takes", help="list recorded takes")
    _takes_folder(takes, "folder (default: takes/)")
    devices = commands.add_parser(
        "devices", help="list monitors, MIDI ports, audio devices and video sources"
    )
    devices.add_argument(
        "--ndi", action="store_true", help="also look for NDI senders (multicast on the network)"
    )
    _probe(commands)
    _train(commands)
    return parser


def _takes_folder(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--takes", type=Path, default=Path("takes"), metavar="FOLDER", help=help)


def _play(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser(
        "play",
        help="open the window and play live",
        description="Open the window and play live. Keys: Esc quits, F fullscreen, H HUD. "
        "With no display, plays headless and records what the window would show.",
    )
    options.add_performance_options(play)
    play.add_argument("--fullscreen", action="store_true", help="start fullscreen")
    play.add_argument(
        "--monitor", type=int, metavar="N", help="monitor number for fullscreen (see devices)"
    )
    play.add_argument("--no-vsync", action="store_true", help="draw as fast as possible")
    play.add_argument(
        "--display-fps",
        type=options.fps,
        metavar="N",
        help="cap the window's redraw rate (default: the monitor's), e.g. for a 30 Hz "
        "projector, or to leave the generator more of a laptop's cores",
    )
    play.add_argument("--headless", action="store_true", help="no window even with a display")
    play.add_argument(
        "--seconds",
        type=options.seconds,
        metavar="S",
        help="stop after this long (default: until Esc; headless: 10)",
    )
    play.add_argument(
        "--record",
        action="store_true",
        help="record a take from the start (R or /performer/record/start also do)",
    )
    _takes_folder(play, "where takes go (default: takes/)")
    options.add_input_options(play)
    options.add_video_options(play, outputs=True)


def _render(commands: argparse._SubParsersAction) -> None:
    render = commands.add_parser(
        "render",
        help="render offline to a video file, or replay a take",
        description="Render offline on a fake clock: every frame is generated, none dropped. "
        "With TAKE, replay a recorded take through the same mappings and generator, "
        "at any --width/--height/--steps, with its audio.",
    )
    render.add_argument("take", nargs="?", type=Path, help="a take folder to replay")
    options.add_performance_options(render)
    render.add_argument(
        "--frames",
        type=options.count,
        default=120,
        metavar="N",
        help="frames to render (default: 120)",
    )
    render.add_argument(
        "--out",
        type=Path,
        default=Path("out/render.mp4"),
        metavar="FILE",
        help="video file (default: %(default)s)",
    )
    options.add_video_options(render, outputs=False)


def _probe(commands: argparse._SubParsersAction) -> None:
    from performer.probe import cli as probing

    probing.add_arguments(
        commands.add_parser(
            "probe",
            help="lay one seed and prompt out across the eras, side by side",
            description="Sweep era (or any --sweep NAME=A:B:STEP or NAME:A:B:COUNT) with "
            "everything else fixed; writes a contact sheet, statistics (CSV/JSON), plots, "
            "an era distance heat map and one self-contained HTML report.",
        )
    )


def _train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train-embedded", help="train the embedded era model (reproducible, fixed seed)"
    )
    try:
        from performer.embedded import train as training
    except ImportError:
        return
    training.add_arguments(train)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="performer: %(message)s",
    )
    from performer import run
    from performer.control.video import VideoSourceError
    from performer.generators import GeneratorError
    from performer.patch import PatchError
    from performer.render.sinks import VideoSinkError
    from performer.take.format import TakeError

    refused = (PatchError, GeneratorError, ParamError, TakeError, VideoSourceError, VideoSinkError)
    try:
        return run.COMMANDS[args.command](args)
    except (*refused, OSError) as exc:
        print(f"performer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("performer: stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
