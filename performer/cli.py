"""The ``performer`` command: play, render, devices, train-embedded."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from performer.control.params import ParamError, param
from performer.options import add_model_options
from performer.take import MAX_FPS  # what --fps may ask is what a take may hold

log = logging.getLogger("performer")

EPILOG = """examples:
  performer play                                 the demo patch (plays itself), embedded model
  performer play --model stabilityai/sd-turbo    a diffusers model (downloads once)
  performer play --set era=1985 --set timestep=0.4
  performer render --frames 300 --out take.mp4   offline, frame-exact
  performer devices                              monitors, MIDI ports, audio devices
"""


def _performance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--patch",
        default="demo",
        metavar="NAME",
        help="patch name (from patches/) or .toml path (default: %(default)s)",
    )
    add_model_options(parser)
    parser.add_argument(
        "--fps",
        type=_fps,
        default=30,
        metavar="N",
        help="display and video frame rate (default: 30)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch CPU threads (default: 1 for the embedded model, which then runs ~27%% "
        "faster beside the display, audio and encoder threads; else torch's choice)",
    )
    speed = parser.add_argument_group("speed (diffusers models, mostly on a GPU)")
    speed.add_argument(
        "--compile",
        nargs="?",
        const="default",
        metavar="MODE",
        help="torch.compile the UNet and decoder at start-up (default, max-autotune)",
    )
    speed.add_argument("--cuda-graphs", action="store_true", help="replay CUDA graphs per frame")
    speed.add_argument(
        "--stream-batch",
        action="store_true",
        help="batch the steps of successive frames in one UNet call (throughput over latency)",
    )
    speed.add_argument(
        "--self-cfg",
        action="store_true",
        help="guidance in one UNet pass (StreamDiffusion's self CFG) instead of two",
    )
    speed.add_argument(
        "--similarity-skip",
        type=float,
        metavar="COS",
        help="skip frames whose input is this similar to the last (e.g. 0.98)",
    )


def _whole(lo: int, hi: int | None, what: str, wrong: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number in ``lo..hi`` (``hi`` None: no top), refused in
    one line otherwise."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if hi is None and number < lo:
            raise argparse.ArgumentTypeError(f"expected {lo} or more, got {number}")
        if hi is not None and not lo <= number <= hi:
            raise argparse.ArgumentTypeError(f"{wrong} {lo}..{hi}, got {number}")
        return number

    return parse


# A port to listen on: 1..65535 (--no-osc / --no-oscquery for none).
_port = _whole(1, 65535, "a port number", "a port is")
_fps = _whole(1, MAX_FPS, "frames per second", "frames per second are")
_count = _whole(1, None, "a whole number")


def _seconds_arg(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"seconds are a positive number, got {text!r}")
    return seconds


def _device(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _allowed(text: str) -> str:
    from performer.control.allow import AllowList

    try:
        AllowList.parse([text])  # names resolve now: a typo stops here, in one line
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _channels(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected channel numbers like 3,4, got {text!r}"
        ) from None
    if not channels or min(channels) < 1:
        raise argparse.ArgumentTypeError(f"channels count from 1, got {text!r}")
    return channels


def _control_options(parser: argparse.ArgumentParser) -> None:
    osc = parser.add_argument_group("OSC, MIDI and Link")
    osc.add_argument(
        "--osc-host",
        metavar="ADDRESS",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; "
        "0.0.0.0 listens on every network)",
    )
    osc.add_argument(
        "--osc-port",
        type=_port,
        default=9000,
        metavar="PORT",
        help="OSC UDP port (default: %(default)s)",
    )
    osc.add_argument(
        "--osc-allow",
        metavar="IP",
        action="append",
        type=_allowed,
        default=[],
        help="only hear OSC and OSCQuery from this address, network (10.0.0.0/8) or host "
        "name (repeatable; this machine is always heard)",
    )
    osc.add_argument("--no-osc", action="store_true", help="do not listen for OSC")
    osc.add_argument(
        "--oscquery-port",
        metavar="PORT",
        type=_port,
        default=9010,
        help="OSCQuery HTTP port, on the OSC host (default: %(default)s)",
    )
    osc.add_argument("--no-oscquery", action="store_true", help="do not serve OSCQuery")
    osc.add_argument(
        "--mdns",
        action="store_true",
        help="advertise OSCQuery over mDNS (multicast; needs zeroconf)",
    )
    osc.add_argument(
        "--midi",
        metavar="NAME",
        action="append",
        default=[],
        help="open MIDI inputs whose name contains NAME (repeatable; re-opened on re-plug)",
    )
    osc.add_argument(
        "--audio-in",
        metavar="DEVICE",
        type=_device,
        help="audio input (name, part of it, or index; see devices): analysis drives "
        "audio:* mappings, the clock follows the card, takes record it",
    )
    osc.add_argument(
        "--audio-channels",
        metavar="A,B",
        type=_channels,
        help="which input channels, from 1 (default: the first two)",
    )
    osc.add_argument(
        "--audio-through",
        metavar="DEVICE",
        type=_device,
        help="pass the input through to this output",
    )
    osc.add_argument(
        "--av-delay",
        metavar="MS",
        type=float,
        help="place a take's audio this much later than it sounded, to meet the picture "
        "that answers it (default: one analysis hop plus half a frame, about 27 ms)",
    )
    osc.add_argument(
        "--link",
        action="store_true",
        help="follow and lead an Ableton Link session's tempo (multicast; needs linkpython-extern)",
    )
    osc.add_argument(
        "--no-midi-virtual",
        action="store_true",
        help="do not create the virtual MIDI input named performer",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="performer",
        description="A real-time audiovisual instrument: few-step diffusion played live.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    play = commands.add_parser(
        "play",
        help="open the window and play live",
        description="Open the window and play live. Keys: Esc quits, F fullscreen, H HUD. "
        "With no display, plays headless and records what the window would show.",
    )
    _performance_options(play)
    play.add_argument("--fullscreen", action="store_true", help="start fullscreen")
    play.add_argument(
        "--monitor", type=int, metavar="N", help="monitor number for fullscreen (see devices)"
    )
    play.add_argument("--no-vsync", action="store_true", help="draw as fast as possible")
    play.add_argument(
        "--display-fps",
        type=_fps,
        metavar="N",
        help="cap the window's redraw rate (default: the monitor's), e.g. for a 30 Hz "
        "projector, or to leave the generator more of a laptop's cores",
    )
    play.add_argument("--headless", action="store_true", help="no window even with a display")
    play.add_argument(
        "--seconds",
        type=_seconds_arg,
        metavar="S",
        help="stop after this long (default: until Esc; headless: 10)",
    )
    play.add_argument(
        "--record",
        action="store_true",
        help="record a take from the start (R or /performer/record/start also do)",
    )
    play.add_argument(
        "--takes",
        type=Path,
        default=Path("takes"),
        metavar="FOLDER",
        help="where takes go (default: takes/)",
    )
    _control_options(play)

    render = commands.add_parser(
        "render",
        help="render offline to a video file, or replay a take",
        description="Render offline on a fake clock: every frame is generated, none dropped. "
        "With TAKE, replay a recorded take through the same mappings and generator, "
        "at any --width/--height/--steps, with its audio.",
    )
    render.add_argument("take", nargs="?", type=Path, help="a take folder to replay")
    _performance_options(render)
    render.add_argument(
        "--frames", type=_count, default=120, metavar="N", help="frames to render (default: 120)"
    )
    render.add_argument(
        "--out",
        type=Path,
        default=Path("out/render.mp4"),
        metavar="FILE",
        help="video file (default: %(default)s)",
    )

    takes = commands.add_parser("takes", help="list recorded takes")
    takes.add_argument(
        "--takes",
        type=Path,
        default=Path("takes"),
        metavar="FOLDER",
        help="folder (default: takes/)",
    )

    commands.add_parser("devices", help="list monitors, MIDI ports and audio devices")

    from performer.probe import cli as probing

    probing.add_arguments(
        commands.add_parser(
            "probe",
            help="lay one seed and prompt out across the eras, side by side",
            description="Sweep era (or any --sweep NAME=A:B:STEP) with everything else fixed; "
            "writes a contact sheet, statistics (CSV/JSON), plots, an era distance heat map "
            "and one self-contained HTML report.",
        )
    )

    train = commands.add_parser(
        "train-embedded", help="train the embedded era model (reproducible, fixed seed)"
    )
    try:
        from performer.embedded import train as training
    except ImportError:
        training = None  # type: ignore[assignment]
    if training is not None:
        training.add_arguments(train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="performer: %(message)s",
    )
    from performer.generators import GeneratorError
    from performer.patch import PatchError
    from performer.take.format import TakeError

    try:
        if args.command == "devices":
            from performer.devices import report

            print(report())
            return 0
        if args.command == "probe":
            from performer.probe import cli as probing

            return probing.run(args)
        if args.command == "takes":
            return _list_takes(args.takes)
        if args.command == "train-embedded":
            from performer.embedded import train as training

            return training.run(args)
        return _perform(args)
    except (PatchError, GeneratorError, ParamError, TakeError, OSError) as exc:
        print(f"performer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("performer: stopped", file=sys.stderr)
        return 130


def _perform(args: argparse.Namespace) -> int:
    from performer import patch as patches
    from performer.control.clock import FakeClock
    from performer.generators import load_generator
    from performer.session import Session

    if args.command == "render" and args.take is not None:
        return _replay(args)
    patch = patches.load(args.patch)
    model = args.model or patch.model
    _set_threads(args.threads, model)
    generator = load_generator(
        model,
        tiny_vae=args.tiny_vae or patch.tiny_vae,
        lora=args.lora or patch.lora,
        device=args.device,
        fast=_fast(args),
    )
    clock: Any = None
    if args.command == "render":
        clock = FakeClock()
    elif args.audio_in is not None:  # the performance follows the sound card's clock
        from performer.control.audio_clock import AudioClock

        clock = AudioClock()
    session = Session(patch, generator, clock=clock, overrides=_overrides(args), model=model)
    log.info("loading %s for patch %r", model or "the embedded model", patch.name)
    session.prepare()
    size = (session.store.get("width"), session.store.get("height"))
    try:
        if args.command == "render":
            from performer.offline import render_to_file

            args.out.parent.mkdir(parents=True, exist_ok=True)
            written = render_to_file(session, args.out, args.frames, args.fps, size)
            log.info("wrote %d frames to %s", written, args.out)
            return 0
        return _play(args, session, size)
    finally:
        session.close()


def _set_threads(threads: int | None, model: str | None) -> None:
    import torch

    if threads is None and not model:
        threads = 1  # measured: bench/recording_cost.py, docs/benchmarks.md
    if threads is not None:
        torch.set_num_threads(max(1, threads))


def _fast(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "compile": args.compile or False,
        "cuda_graphs": args.cuda_graphs,
        "stream_batch": args.stream_batch,
        "similarity_skip": args.similarity_skip,
        "cfg": "self" if args.self_cfg else None,
    }


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = dict(args.sets)
    for name in ("width", "height", "steps"):
        if getattr(args, name) is not None:
            overrides[name] = param(name).check(getattr(args, name))
    return overrides


def _replay(args: argparse.Namespace) -> int:
    from performer.generators import load_generator
    from performer.replay import replay
    from performer.take import read_take

    info = read_take(args.take).info
    model = args.model or info.get("model_arg")
    _set_threads(args.threads, model)
    generator = load_generator(
        model, tiny_vae=args.tiny_vae, lora=args.lora, device=args.device, fast=_fast(args)
    )
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
    return 0


def _list_takes(root: Path) -> int:
    from performer.take import list_takes

    found = list_takes(root)
    if not found:
        print(f"no takes in {root}/ (record with: performer play --record)")
    for t in found:
        print(f"{t.folder}  {t.seconds:7.1f} s  {t.frames:6d} frames  {t.started}  {t.patch}")
    return 0


def _play(args: argparse.Namespace, session: Any, size: tuple[int, int]) -> int:
    from performer.controls import ControlOptions, start_controls, stop_controls

    options = ControlOptions(
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
    controls = start_controls(session, options)
    audio = next((c for c in controls if type(c).__name__ == "AudioInput"), None)
    try:
        return _show(args, session, size, audio)
    finally:
        stop_controls(controls)


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0


def _show(args: argparse.Namespace, session: Any, size: tuple[int, int], audio: Any) -> int:
    from performer.live import Stage, play_headless, play_window

    if not args.headless:
        from performer.render.window import Window

        try:
            window = Window(
                *size, fullscreen=args.fullscreen, monitor=args.monitor, vsync=not args.no_vsync
            )
        except RuntimeError as exc:
            log.info("%s", exc)
        else:
            with window:
                stage = Stage(session, window, args.fps, args.takes)
                stage.audio, stage.av_delay = audio, _seconds(args.av_delay)
                stage.record(args.record)
                try:
                    play_window(stage, window, args.seconds, args.display_fps)
                finally:
                    stage.close()
            return 0
    from performer.render.headless import Headless

    seconds = 10.0 if args.seconds is None else args.seconds
    with Headless(*size) as surface:
        stage = Stage(session, surface, args.fps, args.takes)
        stage.audio, stage.av_delay = audio, _seconds(args.av_delay)
        stage.record(True)  # headless, the take is how the performance is seen
        if stage.take is not None:
            log.info("no window: playing headless for %g s into %s", seconds, stage.take.folder)
        else:  # record() said why in one line; the show goes on, unseen but heard
            log.info("no window: playing headless for %g s, not recording", seconds)
        try:
            drawn = play_headless(stage, seconds)
        finally:
            stage.close()
    log.info("played %d frames%s", drawn, _videos(list(stage.recorded)))
    return 0 if drawn else 1  # no picture at all: the show could not go on


def _videos(folders: list[Path]) -> str:
    """Where the takes of this show are: only those that were begun (a take can be
    stopped and started again from OSC, or never start on a read-only disk)."""
    videos = [str((folder / "video.mp4").resolve()) for folder in folders]
    if not videos:
        return "; nothing was recorded"
    if len(videos) == 1:
        return f"; the video is {videos[0]}"
    return f"; the videos are {', '.join(videos)}"


if __name__ == "__main__":
    sys.exit(main())
