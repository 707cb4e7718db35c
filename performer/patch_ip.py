"""A patch's ``[ip_adapter]``: the IP-Adapter the picture is prompted with, and its image::

[ip_adapter]
source = "h94/IP-Adapter"      # a Hugging Face id, or "./adapters/ip" in the patch's folder
image = "refs/face.png"        # a file in the patch's folder, the live "input", or "grab"
scale = 0.7                    # where ip_scale starts (default 1)

The image names ``ip_source``: 0 the file, 1 the live input, 2 the grabbed picture
(the G key, ``/performer/ip/grab``). Like every file a patch names, the image and a
local adapter folder must lie in the patch's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from performer.control.params import param
from performer.mappings.tables import PatchError, Table
from performer.patch_paths import file_in_folder, weights_source

WORDS = {"input": 1, "grab": 2}  # ip_source of an image that is not a file


def ip_adapter(table: Table, path: Path | None) -> tuple[str | None, str | None, dict[str, Any]]:
    """The ``[ip_adapter]`` source (None: none), its image file (None: none), and the
    knobs' starting values given."""
    if not table.data:
        return None, None, {}
    table.only(("source", "image", "scale"))
    source = table.text("source")
    if not source:
        raise PatchError(table.at("source"), "expected an IP-Adapter id or folder")
    source = weights_source(source, table.at("source"), path)
    values: dict[str, Any] = {}
    image = None
    if table.has("image"):
        written = table.text("image")
        if written in WORDS:
            values["ip_source"] = WORDS[written]
        elif written:
            image = file_in_folder(written, table.at("image"), path)
            values["ip_source"] = 0
        else:
            raise PatchError(table.at("image"), 'expected a file, "input" or "grab"')
    if table.has("scale"):
        scale = param("ip_scale")
        values[scale.name] = table.number("scale", 1.0, scale.lo, scale.hi)
    return source, image, values
