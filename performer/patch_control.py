"""ControlNets, as a patch's ``[[controlnets]]`` and the command line's
``--controlnet ID_OR_FOLDER[:PREPROCESSOR]`` (up to 4 at once)::

    [[controlnets]]
    source = "lllyasviel/control_v11p_sd15_canny"   # a Hugging Face id or a folder
    preprocessor = "canny"        # luma (default), canny, soft_edge, depth:ID_OR_FOLDER
    image = "previous"            # the control image: "previous" frame, live "input",
                                  # or "still:FILE" (FILE in the patch's folder)
    strength = 0.8                # where its strength knob starts (default 1)

With one ControlNet its strength is ``control_strength``; with several, ControlNet n's
is ``control_strength_<n>`` (declared in the registry when the patch loads). The control
image's source is one knob for all of them (``control_source``), and so is the still.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from performer.control.param import Param, ParamError
from performer.control.params import control_param, declare, param
from performer.mappings.tables import PatchError, Table, array_of_tables
from performer.patch_paths import file_in_folder, split_spec, weights_source

IMAGES = ("previous", "input", "still")  # control_source 0, 1 and 2
MAX_CONTROLNETS = 4
PREPROCESSORS = ("luma", "canny", "soft_edge", "depth:ID_OR_FOLDER")
_SPEC = re.compile(r"(?P<source>.+?):(?P<pre>luma|canny|soft_edge|pose|depth:.+)")


def preprocessor(text: str) -> str:
    """``text`` if it names a preprocessor; else a ValueError saying what would."""
    if text in ("luma", "canny", "soft_edge") or (text.startswith("depth:") and text[6:]):
        return text
    if text == "pose":
        raise ValueError(
            "pose needs an OpenPose model (controlnet_aux), which performer does not ship; "
            "use depth:ID_OR_FOLDER, canny, soft_edge or luma"
        )
    if text == "depth":
        raise ValueError("depth needs a depth model: depth:ID_OR_FOLDER")
    raise ValueError(f"unknown preprocessor {text!r}; known: {', '.join(PREPROCESSORS)}")


def parse_spec(text: str) -> tuple[str, str]:
    """``ID_OR_FOLDER[:PREPROCESSOR]``: the source and its preprocessor (luma if none)."""
    match = _SPEC.fullmatch(text)  # depth:ID holds a colon of its own
    if match:
        return match["source"], preprocessor(match["pre"])
    source, tail = split_spec(text, "ControlNet")
    return source, "luma" if tail is None else preprocessor(tail)


def strength_params(count: int) -> tuple[Param, ...]:
    """The strength knob of each of ``count`` ControlNets."""
    if count == 1:
        return (param("control_strength"),)
    return tuple(control_param(n) for n in range(1, count + 1))


def controlnets(
    value: Any, path: Path | None
) -> tuple[tuple[tuple[str, str], ...], str | None, dict[str, Any]]:
    """The ``[[controlnets]]`` tables: (source, preprocessor) each, the still image file
    (None: none), and the knobs' starting values given. Declares each strength knob."""
    tables = array_of_tables(value, "controlnets", "ControlNets", MAX_CONTROLNETS)
    knobs = strength_params(len(tables)) if tables else ()
    specs: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    stills: set[str] = set()
    for table, knob in zip(tables, knobs, strict=True):
        table.only(("source", "preprocessor", "image", "still", "strength"))
        specs.append((_relative(table, "source", table.text("source"), path), _pre(table, path)))
        image, still = _image(table, path)
        if image is not None:
            if values.get("control_source", image) != image:
                raise PatchError(table.at("image"), "the ControlNets share one control image")
            values["control_source"] = image
        if still is not None:
            stills.add(still)
        if len(stills) > 1:
            raise PatchError(table.at("still"), "the ControlNets share one still image")
        try:
            declare(knob)
        except ParamError as exc:
            raise PatchError(table.at("strength"), str(exc)) from None
        if table.has("strength"):
            values[knob.name] = table.number("strength", knob.default, knob.lo, knob.hi)
    if values.get("control_source") == 2 and not stills:
        raise PatchError("controlnets", 'image = "still" needs a file: "still:FILE" or still')
    return tuple(specs), next(iter(stills), None), values


def _relative(table: Table, key: str, source: str, path: Path | None) -> str:
    """A Hugging Face id, or a folder in the patch's folder (``patch_paths``)."""
    if not source:
        raise PatchError(table.at(key), "expected an id or folder")
    return weights_source(source, table.at(key), path)


def _pre(table: Table, path: Path | None) -> str:
    text = table.text("preprocessor", "luma")
    try:
        text = preprocessor(text)
    except ValueError as exc:
        raise PatchError(table.at("preprocessor"), str(exc)) from None
    kind, _, model = text.partition(":")
    return f"depth:{_relative(table, 'preprocessor', model, path)}" if model else kind


def _image(table: Table, path: Path | None) -> tuple[int | None, str | None]:
    """The table's control_source (None: not given) and still file (None: none)."""
    image, still = None, None
    if table.has("image"):
        text = table.text("image")
        kind, colon, file = text.partition(":")
        if kind not in IMAGES or (colon and kind != "still"):
            raise PatchError(table.at("image"), f"unknown {text!r}; known: {', '.join(IMAGES)}")
        image = IMAGES.index(kind)
        if file:
            still = file_in_folder(file, table.at("image"), path)
    if table.has("still"):
        file = file_in_folder(table.text("still"), table.at("still"), path)
        if still is not None and file != still:
            raise PatchError(table.at("still"), "a second still image; give it once")
        still = file
    return image, still
