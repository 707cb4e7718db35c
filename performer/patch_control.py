"""A patch's ``[[controlnets]]``: the ControlNet the picture is held to (one, for now)::

[[controlnets]]
source = "lllyasviel/control_v11p_sd15_lineart"   # a Hugging Face id or a folder
image = "previous"            # the control image: "previous" frame or live "input"
strength = 0.8                # where control_strength starts (default 1)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from performer.control.params import param
from performer.mappings.tables import PatchError, array_of_tables
from performer.patch_paths import weights_source

IMAGES = ("previous", "input")  # control_source 0 and 1
MAX_CONTROLNETS = 1  # several at once (control_strength_<n>) are still to come


def controlnet(value: Any, path: Path | None) -> tuple[str | None, dict[str, Any]]:
    """The ``[[controlnets]]`` source (None: none), and the knobs' starting values given."""
    tables = array_of_tables(value, "controlnets", "ControlNets", MAX_CONTROLNETS)
    if not tables:
        return None, {}
    table = tables[0]
    table.only(("source", "image", "strength"))
    source = table.text("source")
    if not source:
        raise PatchError(table.at("source"), "expected a ControlNet id or folder")
    source = weights_source(source, table.at("source"), path)
    values: dict[str, Any] = {}
    if table.has("image"):
        values["control_source"] = IMAGES.index(table.text("image", choices=IMAGES))
    if table.has("strength"):
        strength = param("control_strength")
        values[strength.name] = table.number("strength", 1.0, strength.lo, strength.hi)
    return source, values
