"""Command-line options: the model's (shared by ``play``, ``render`` and ``probe``), the
performance's, the inputs', and the types that check each value in one line."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from performer.control.param import ParamError
from performer.control.params import control_param, declare, lora_param, param
from performer.take import MAX_FPS  # what --fps may ask is what a take may hold


def assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` checked against the registry, for ``--set`` (``lora_NAME`` as any
    LoRA's knob: whether that LoRA is there is known once the patch is read)."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name = name.strip()
    try:
        # a LoRA's knob a patch declares is not known yet while arguments are read
        p = lora_param(name[5:]) if name.startswith("lora_") else _control_param(name)
        return p.name, p.check(raw if p.kind == "str" else float(raw))
    except (ParamError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _control_param(name: str) -> Any:
    """``control_strength_<n>`` (n = 1 to 4, several ControlNets), else any knob."""
    from performer.patch_control import MAX_CONTROLNETS

    number = name.removeprefix("control_strength_")
    if number != name and number.isdigit() and 1 <= int(number) <= MAX_CONTROLNETS:
        return control_param(int(number))
    return param(name)


class ControlNetOption(argparse.Action):
    """``--controlnet ID_OR_FOLDER[:PREPROCESSOR]``: one more ControlNet, up to 4."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        from performer.patch_control import MAX_CONTROLNETS, parse_spec

        try:
            spec = parse_spec(value)
        except ValueError as exc:
            parser.error(f"--controlnet: {exc}")
        if len(namespace.controlnets) >= MAX_CONTROLNETS:
            parser.error(f"--controlnet: at most {MAX_CONTROLNETS} ControlNets")
        namespace.controlnets = [*namespace.controlnets, spec]
        if len(namespace.controlnets) > 1:  # a later --set control_strength_N=... may set it
            for n in range(1, len(namespace.controlnets) + 1):
                declare(control_param(n))


class LoraOption(argparse.Action):
    """``--lora``: with a name, one more live LoRA (``loras``); with none, the fused one."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        from performer.patch_loras import parse_spec

        try:
            source, name = parse_spec(value)
        except ValueError as exc:
            parser.error(f"--lora: {exc}")
        if name is None:
            if namespace.lora:
                parser.error("--lora: one LoRA with no name is fused; name the others FILE:NAME")
            namespace.lora = source
        else:  # the knob is known from here on (a later --set lora_NAME=... may set it)
            declare(lora_param(name))
            namespace.loras = [*namespace.loras, (source, name)]


def add_model_options(
    parser: argparse.ArgumentParser,
    set_help: str = "set a parameter at start, e.g. --set era=1925 (repeatable)",
) -> None:
    """Which model, on which device, at which size and steps, and ``--set`` values."""
    parser.add_argument(
        "--model",
        help="Hugging Face id or model folder; overrides the patch (default: the embedded model)",
    )
    parser.add_argument("--tiny-vae", help="AutoencoderTiny (TAESD) id or folder for fast decode")
    parser.add_argument(
        "--lora",
        metavar="ID_OR_FILE[:NAME]",
        action=LoraOption,
        help="a LoRA played live, its weight the knob lora_NAME (repeatable); with no "
        "NAME, an LCM-LoRA fused into the model",
    )
    parser.set_defaults(loras=[])
    parser.add_argument(
        "--controlnet",
        metavar="ID_OR_FOLDER[:PREPROCESSOR]",
        action=ControlNetOption,
        help="a ControlNet holding the picture to the previous frame, the live input or "
        "the still (control_source), by control_strength (several, up to 4: "
        "control_strength_N each); PREPROCESSOR: luma (default), canny, soft_edge or "
        "depth:ID_OR_FOLDER",
    )
    parser.set_defaults(controlnets=[])
    parser.add_argument(
        "--control-image",
        metavar="FILE",
        help="a still image file as the ControlNets' control image (control_source 2)",
    )
    parser.add_argument(
        "--ip-adapter",
        metavar="ID_OR_FOLDER",
        help="an IP-Adapter prompting with an image (ip_source: its file, the live input "
        "or a grab of the picture), by ip_scale",
    )
    parser.add_argument("--ip-image", metavar="FILE", help="the IP-Adapter's image prompt file")
    parser.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best one here)")
    parser.add_argument("--width", type=int, help="frame width in pixels (default: the patch's)")
    parser.add_argument("--height", type=int, help="frame height in pixels")
    parser.add_argument("--steps", type=int, help="denoising steps per frame, 1-4")
    parser.add_argument(
        "--set",
        dest="sets",
        metavar="NAME=VALUE",
        type=assignment,
        action="append",
        default=[],
        help=set_help,
    )


def whole(lo: int, hi: int | None, what: str, wrong: str = "") -> Callable[[str], int]:
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
port = whole(1, 65535, "a port number", "a port is")
fps = whole(1, MAX_FPS, "frames per second", "frames per second are")
count = whole(1, None, "a whole number")


def seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"seconds are a positive number, got {text!r}")
    return seconds


def device(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def allowed(text: str) -> str:
    from performer.control.allow import AllowList

    try:
        AllowList.parse([text])  # names resolve now: a typo stops here, in one line
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def channels(text: str) -> tuple[int, ...]:
    try:
        channels = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected channel numbers like 3,4, got {text!r}"
        ) from None
    if not channels or min(channels) < 1:
        raise argparse.ArgumentTypeError(f"channels count from 1, got {text!r}")
    return channels


def add_performance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--patch",
        default="demo",
        metavar="NAME",
        help="patch name (from patches/) or .toml path (default: %(default)s)",
    )
    add_model_options(parser)
    parser.add_argument(
        "--fps",
        type=fps,
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


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """What the show listens to: OSC and OSCQuery, MIDI, audio and Link (one group)."""
    group = parser.add_argument_group("OSC, MIDI and Link")
    _osc_options(group)
    _midi_audio_link_options(group)


def _osc_options(osc: argparse._ArgumentGroup) -> None:
    osc.add_argument(
        "--osc-host",
        metavar="ADDRESS",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; "
        "0.0.0.0 listens on every network)",
    )
    osc.add_argument(
        "--osc-port",
        type=port,
        default=9000,
        metavar="PORT",
        help="OSC UDP port (default: %(default)s)",
    )
    osc.add_argument(
        "--osc-allow",
        metavar="IP",
        action="append",
        type=allowed,
        default=[],
        help="only hear OSC and OSCQuery from this address, network (10.0.0.0/8) or host "
        "name (repeatable; this machine is always heard)",
    )
    osc.add_argument("--no-osc", action="store_true", help="do not listen for OSC")
    osc.add_argument(
        "--oscquery-port",
        metavar="PORT",
        type=port,
        default=9010,
        help="OSCQuery HTTP port, on the OSC host (default: %(default)s)",
    )
    osc.add_argument("--no-oscquery", action="store_true", help="do not serve OSCQuery")
    osc.add_argument(
        "--mdns",
        action="store_true",
        help="advertise OSCQuery over mDNS (multicast; needs zeroconf)",
    )


def _midi_audio_link_options(osc: argparse._ArgumentGroup) -> None:
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
        type=device,
        help="audio input (name, part of it, or index; see devices): analysis drives "
        "audio:* mappings, the clock follows the card, takes record it",
    )
    osc.add_argument(
        "--audio-channels",
        metavar="A,B",
        type=channels,
        help="which input channels, from 1 (default: the first two)",
    )
    osc.add_argument(
        "--audio-through",
        metavar="DEVICE",
        type=device,
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


def add_video_options(parser: argparse.ArgumentParser, outputs: bool) -> None:
    """Video in (play and render) and out (play)."""
    video = parser.add_argument_group("video in and out")
    video.add_argument(
        "--input",
        metavar="SOURCE",
        help="live input each frame may start from (input_mix; starts at 1 unless the patch "
        "or --set says): a video file, camera[:DEVICE], screen[:AREA], ndi:NAME, "
        "ffmpeg:URL?format=F, spout:NAME, syphon:NAME (see devices)",
    )
    if outputs:
        video.add_argument(
            "--output",
            metavar="SINK",
            action="append",
            default=[],
            help="send the picture to ndi:NAME, vcam[:DEVICE], spout:NAME or syphon:NAME "
            "(repeatable; add ?frames=generated for the generated frames instead of the "
            "display's picture)",
        )
