"""Reading a source spec: ``KIND:TARGET?key=value&key=value`` or a file path.

Everything after the LAST ``?`` is options (for FFmpeg-backed kinds they go to
``av.open``; ``format`` picks FFmpeg's input format). A URL that has a query of its
own ends the spec with a lone ``?``: ``ffmpeg:rtsp://cam/live?token=1?``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from performer.control.video.frames import VideoSourceError

#: The kinds a spec may name, in the order the error message lists them.
KINDS = ("camera", "screen", "ndi", "ffmpeg", "spout", "syphon")
ACCEPTED = (
    "a video file, camera[:DEVICE], screen[:AREA], ndi:NAME, ffmpeg:URL?format=FMT, "
    "spout:NAME or syphon:NAME"
)


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # one of KINDS, or "file"
    target: str  # the device, area, name, URL or path ("" for a default)
    options: dict[str, str] = field(default_factory=dict)


def parse_source(spec: str) -> SourceSpec:
    """The spec's kind, target and options; VideoSourceError names what is accepted."""
    kind, colon, rest = spec.partition(":")
    if (colon and kind in KINDS) or spec in ("camera", "screen"):
        target, options = _split_options(rest)
        if kind in ("ndi", "ffmpeg", "spout", "syphon") and not target:
            raise VideoSourceError(f"input {spec!r}: {kind}: needs a name or URL after the colon")
        return SourceSpec(kind, target, options)
    text, options = (spec, {}) if Path(spec).exists() else _split_options(spec)
    path = Path(text)
    if path.suffix and not path.is_dir():
        if not path.exists():
            raise VideoSourceError(f"input {spec!r}: no such file")
        return SourceSpec("file", text, options)
    raise VideoSourceError(f"input {spec!r} is not one of: {ACCEPTED}")


def _split_options(rest: str) -> tuple[str, dict[str, str]]:
    target, mark, query = rest.rpartition("?")
    if not mark:
        return rest, {}
    options = {}
    for pair in filter(None, query.split("&")):
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise VideoSourceError(f"option {pair!r}: expected key=value after the last '?'")
        options[key] = value
    return target, options
