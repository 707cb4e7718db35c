"""Command-line options shared by ``performer play/render`` and ``performer probe``."""

from __future__ import annotations

import argparse
from typing import Any

from performer.control.params import ParamError, param


def assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` checked against the registry, for ``--set``."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        p = param(name.strip())
        return p.name, p.check(raw if p.kind == "str" else float(raw))
    except (ParamError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument("--lora", help="LCM-LoRA id or folder fused into the model")
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
