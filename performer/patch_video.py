"""A patch's video in and out: ``[input]`` and ``[[outputs]]``.

::

    [input]
    source = "camera"                 # or "loops/street.mp4" (inside the patch's folder),
                                      # "ndi:Studio", "screen", "ffmpeg:rtsp://cam/live"
    [[outputs]]
    sink = "ndi:performer"            # vcam, spout:NAME, syphon:NAME
    frames = "display"                # or "generated"

Patches are data from anywhere, so what they may name is narrower than the command
line's ``--input``: a file must lie in the patch's folder (a relative path, no ``..``),
an FFmpeg URL must be a network stream (a local path or a filter graph could read any
file), and a camera is a device number or name, not a path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from performer.mappings.tables import PatchError, Table, array_of_tables, shown

MAX_OUTPUTS = 8
#: the FFmpeg URL schemes a patch may name: streams from the network, never a file
STREAMS = ("rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "tcp", "http", "https")
DEVICES = ("camera", "screen", "ndi", "spout", "syphon")
_CAMERA = re.compile(r"[0-9]{1,3}|/dev/video[0-9]{1,3}|[^/\\?]{1,200}")


def source(table: Table, path: Path | None) -> str | None:
    """The ``[input]`` table's source spec, resolved against the patch's folder."""
    table.only(("source",))
    spec = table.text("source", "")
    if not spec:
        return None
    key = table.at("source")
    kind, colon, target = spec.partition(":")
    if kind == "ffmpeg" and colon:
        scheme = target.partition("://")[0].lower()
        if scheme not in STREAMS:
            raise PatchError(key, f"an FFmpeg input in a patch must be one of {', '.join(STREAMS)}")
        return spec
    if kind in DEVICES and (colon or spec == kind):
        if kind == "camera" and target and not _CAMERA.fullmatch(target.partition("?")[0]):
            raise PatchError(key, f"a camera is a number or a name, got {shown(target)}")
        return spec
    file_in_folder(spec.partition("?")[0], key, path)
    return spec if path is None else str(path.parent / spec)


def file_in_folder(spec: str, key: str, path: Path | None) -> str:
    """``spec``, a file inside the folder of the patch at ``path`` (None: a patch read
    from text, kept as it is), as a path to open; else a PatchError at ``key``."""
    file = Path(spec)
    if file.is_absolute() or ".." in file.parts or file.drive:
        raise PatchError(key, "a file must lie in the patch's folder (a relative path, no ..)")
    if path is None:
        return spec
    folder = path.parent.resolve()
    if not (folder / file).resolve().is_relative_to(folder):  # a link that leads out
        raise PatchError(key, "a file must lie in the patch's folder (it links outside)")
    return str(path.parent / spec)


def outputs(value: Any) -> tuple[str, ...]:
    """The ``[[outputs]]`` tables as sink specs (``?frames=generated`` where asked)."""
    specs = []
    for table in array_of_tables(value, "outputs", "outputs", MAX_OUTPUTS):
        table.only(("sink", "frames"))
        sink = table.text("sink")
        if "?" in sink or not sink:
            raise PatchError(table.at("sink"), f"expected a sink like ndi:NAME, got {shown(sink)}")
        frames = table.text("frames", "display", ("display", "generated"))
        specs.append(sink if frames == "display" else f"{sink}?frames=generated")
    return tuple(specs)
