"""Live LoRAs, as a patch's ``[[loras]]`` and the command line's ``--lora FILE:NAME``.

Each LoRA's weight is a knob, ``lora_<name>`` (0 to 2), declared in the registry when
the patch loads, so mappings, scenes, timelines, OSC and OSCQuery know it as any
other::

    [[loras]]
    source = "./loras/ink.safetensors"   # a Hugging Face id, a folder or a file
    name = "ink"                         # the knob: lora_ink
    weight = 0.8                         # where the knob starts (default 1)

The patch's top-level ``lora`` (and ``--lora`` with no name) is different: an
LCM-LoRA fused into the model once, with no knob.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from performer.control.param import ParamError
from performer.control.params import declare, lora_param
from performer.mappings.tables import PatchError, array_of_tables
from performer.patch_paths import split_spec, weights_source

NAME = re.compile(r"[a-z0-9_]{1,40}")
MAX_LORAS = 8


def lora_name(name: str) -> str:
    """``name`` if it can name a knob (``lora_<name>``); else a ValueError saying why."""
    if not NAME.fullmatch(name):
        raise ValueError(
            f"LoRA name {name!r}: expected 1-40 lowercase letters, digits or _ "
            "(it names the knob lora_<name>)"
        )
    return name


def parse_spec(text: str) -> tuple[str, str | None]:
    """``ID_OR_FILE[:NAME]``: the source and the knob's name (None: no name given)."""
    source, name = split_spec(text, "LoRA")
    return source, None if name is None else lora_name(name)


def loras(value: Any, path: Path | None) -> tuple[tuple[tuple[str, str], ...], dict[str, float]]:
    """The ``[[loras]]`` tables: (source, name) each, and the starting weights given.
    Declares each knob in the registry."""
    specs: list[tuple[str, str]] = []
    weights: dict[str, float] = {}
    for table in array_of_tables(value, "loras", "LoRAs", MAX_LORAS):
        table.only(("source", "name", "weight"))
        source = table.text("source")
        if not source:
            raise PatchError(table.at("source"), "expected a LoRA id, folder or file")
        source = weights_source(source, table.at("source"), path)
        try:
            name = lora_name(table.text("name"))
        except ValueError as exc:
            raise PatchError(table.at("name"), str(exc)) from None
        if any(name == known for _, known in specs):
            raise PatchError(table.at("name"), f"a second LoRA named {name!r}")
        knob = lora_param(name)
        try:
            declare(knob)
        except ParamError as exc:
            raise PatchError(table.at("name"), str(exc)) from None
        specs.append((source, name))
        if table.has("weight"):  # else the knob starts at its default
            weights[knob.name] = table.number("weight", knob.default, knob.lo, knob.hi)
    return tuple(specs), weights
