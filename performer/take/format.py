"""The take's format: its files, the values and lines of its control log, and their
bounds. The writer (:mod:`~performer.take.writer`) and the reader
(:mod:`~performer.take.reader`) both hold to what is here.

A frame line's ``sha1`` is :func:`digest` of the generated picture: replay compares it.

A take played with a video input also stores the input frames its frames started from,
each once, losslessly, in ``input.mkv`` (see :mod:`~performer.take.inputs`). Before the
first frame line that used one comes its ``input`` line::

    {"type":"input","number":41,"index":11,"t":12.37,"file":"input.mkv","at":17,"sha1":"…"}

``number`` and ``index`` are the source's (its count, the place in its file), ``t`` when
it was due on the performance clock, ``at`` its place in ``file``, ``sha1`` the
:func:`digest` of its picture; the frame line names it by ``"input": 41``. Readers from
before input was stored skip the kind and the key, and replay the take without it.

A frame made with other prompt texts than its snapshot's (live, a new prompt may still
be encoding: the frame plays the one before) says which, by parameter: ``"played":
{"prompt": "a street by day"}``; replay makes it with those (format 3 on). A take from
before says nothing of them, and replays as it did.

Writing: a blob or an OSC time tag is not JSON, and must neither stop the log nor be
lost. Bytes are written as ``{"bytes": "<hex>"}`` and datetimes as ``{"datetime":
"<iso>"}``; replay turns them back into the same values. Anything else JSON cannot hold
is written as ``{"unlogged": "<type>"}`` and counted (the caller warns, rate-limited).

Reading: a take on disk may be cut off, damaged or hand-edited. Each line is read
with a bound on its length, decoded, parsed and checked against its kind; a line that
fails is skipped and counted with its reason, so a replay can say in one line what it
left out. A time that is not a finite number near the take's own span is such a line.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from performer.control.param import MAX_TEXT
from performer.generators.base import TEXTS

VIDEO, LOG, PATCH, INFO = "video.mp4", "control.jsonl", "patch.toml", "take.json"
INPUT = "input.mkv"  # the input frames used; a change of the input's size starts input-2.mkv
# 2: frames carry only the parameters that changed; 3: and the texts they were made
# with where those were not their snapshot's (``played``), which replay then plays
FORMAT = 3
MAX_INFO = 1 << 20  # bytes of take.json: it holds a few short fields
MAX_FPS = 1000  # far past any display; a typo like 30000 would only spin the loop
MAX_LINE = 1 << 20  # bytes: a frame line with a 2,000-character prompt is ~3 KB
MAX_DEPTH = 32  # of lists and tables in one value: events carry flat tuples
MAX_TIME = 1e9  # seconds on the performance clock (31 years): beyond is damage
MAX_TAKE_SECONDS = 86400.0  # a take's length: a time a day after its start is damage
MAX_SHOWN = 3  # reasons kept for the summary line


class TakeError(ValueError):
    """A take that cannot be replayed; the message is one line naming file and fault."""


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line errors."""
    try:
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**100 else "a huge int"
    except RecursionError:  # a hand-made value nested near the interpreter's limit
        return f"a {type(value).__name__} nested too deep"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def digest(image: np.ndarray) -> str:
    """A fingerprint of a generated frame: replay compares these for bit-identity."""
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


# -- writing ---------------------------------------------------------------------------


def plain(value: Any, unknown: list[str], depth: int = 0) -> Any:
    """``value`` as JSON can hold it and replay can read it back; the type names of
    values that cannot be are appended to ``unknown``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN or inf
    if depth >= MAX_DEPTH:
        unknown.append("nesting")
        return {"unlogged": "nesting"}
    if isinstance(value, tuple | list):
        return [plain(v, unknown, depth + 1) for v in value]
    if isinstance(value, Mapping):  # a parameter Snapshot too
        return {str(k): plain(v, unknown, depth + 1) for k, v in value.items()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, numbers.Integral):  # numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # numpy floats
        return plain(float(value), unknown, depth)
    unknown.append(type(value).__name__)
    return {"unlogged": type(value).__name__}


def same(a: Any, b: Any) -> bool:
    """Whether a parameter kept its value: same type too (1, 1.0 and True are equal in
    Python but not in a replay)."""
    return a is b or (type(a) is type(b) and bool(a == b))


# -- reading ---------------------------------------------------------------------------


@dataclass
class BadLines:
    """The lines of a log that were skipped, and why (the first few)."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)
    lines: int = 0  # all lines read, good and bad

    def add(self, number: int, why: str) -> None:
        self.count += 1
        if len(self.reasons) < MAX_SHOWN:
            self.reasons.append(f"line {number}: {why}")

    def summary(self, path: Path) -> str:
        more = ", ..." if self.count > len(self.reasons) else ""
        return (
            f"{path}: skipped {self.count} bad line{'s' * (self.count != 1)} of {self.lines} "
            f"({'; '.join(self.reasons)}{more})"
        )


def read_lines(path: Path, bad: BadLines) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each line of ``path`` that is one JSON object."""
    with path.open("rb") as f:
        number = 0
        while line := f.readline(MAX_LINE + 1):
            number += 1
            bad.lines = number
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while (rest := f.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                bad.add(number, f"longer than {MAX_LINE} bytes")
                continue
            torn = not line.endswith(b"\n")
            try:
                record = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                bad.add(number, f"not UTF-8 (byte {exc.start})")
                continue
            except RecursionError:
                bad.add(number, "nested too deep")
                continue
            except ValueError as exc:  # not JSON, or an integer of over 4,300 digits
                why = getattr(exc, "msg", str(exc).split(";")[0][:80])
                bad.add(number, "torn (the recording was cut off)" if torn else f"not JSON: {why}")
                continue
            if not isinstance(record, dict):
                bad.add(number, f"not a JSON object but a {type(record).__name__}")
                continue
            yield number, record


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def input_file(part: int) -> str:
    """The name of the take's ``part``-th input video (from 1): one per input size."""
    return INPUT if part == 1 else INPUT.replace(".", f"-{part}.")


# the only names an input line may give: a log never points outside its take
_INPUT_FILE = re.compile(r"input(-[2-9]|-[1-9][0-9]{1,3})?\.mkv")
_SHA1 = re.compile(r"[0-9a-f]{40}")


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_time(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_TIME
    )


def _is_played(value: Any) -> bool:
    return isinstance(value, dict) and all(
        name in TEXTS and isinstance(text, str) and len(text) <= MAX_TEXT
        for name, text in value.items()
    )


_FIELDS: dict[str, dict[str, Any]] = {
    # kind: {key: (what it must be, a check, required)}
    "take": {"t": ("a time", _is_time, True), "params": ("a table", dict, False)},
    "end": {"t": ("a time", _is_time, True)},
    "lost": {
        "frame": ("a frame number", _is_int, True),
        "frames": ("a count", lambda v: _is_int(v) and v > 0, True),
    },
    "tick": {
        "frame": ("a frame number", _is_int, True),
        "t": ("a time", _is_time, True),
        "shown": ("a frame number or null", lambda v: v is None or _is_int(v), False),
    },
    "event": {
        "frame": ("a frame number", _is_int, True),
        "t": ("a time", _is_time, True),
        "source": ("a text", str, True),
        "value": ("a value", lambda v: True, True),
        "raw": ("an integer or null", lambda v: v is None or _is_int(v), False),
        "origin": ("a text", str, False),
    },
    "frame": {
        "frame": ("a frame number", _is_int, True),
        "t": ("a time", _is_time, True),
        "sha1": ("a text", str, True),
        "params": ("a table", dict, False),
        "set": ("a table", dict, False),
        "unset": ("a list of names", lambda v: isinstance(v, list), False),
        "input": ("an input frame number", _is_int, False),
        "played": ("a table of prompt texts by parameter", _is_played, False),
    },
    # an input frame stored in the take: before the first frame line that names it
    "input": {
        "number": ("an input frame number", _is_int, True),
        "index": ("a frame index", _is_int, True),
        "t": ("a time", _is_time, True),
        "file": ("input.mkv or input-N.mkv", lambda v: _matches(_INPUT_FILE, v), True),
        "at": ("a frame of that file (from 0)", lambda v: _is_int(v) and v >= 0, True),
        "sha1": ("40 hex digits", lambda v: _matches(_SHA1, v), True),
    },
}


def check(record: dict[str, Any]) -> str | None:
    """Why ``record`` cannot be replayed (None: it can). Kinds replay does not read
    (probe captures, kinds from newer versions) pass unchecked."""
    kind = record.get("type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        return None
    for key, (what, test, required) in fields.items():
        if key not in record:
            if required:
                return f"{kind} line without {key!r}"
            continue
        value = record[key]
        ok = isinstance(value, test) if isinstance(test, type) else test(value)
        if not ok:
            return f"{kind} line: {key!r} must be {what}, got {short(value)}"
    if kind == "event":
        try:
            record["value"] = decode(record["value"])
        except (TypeError, ValueError) as exc:  # bytes.fromhex, fromisoformat, depth
            return f"event line: 'value' {exc}"
    return None


def decode(value: Any, depth: int = 0) -> Any:
    """An event's value as it was live: the inverse of :func:`plain` (lists were tuples).
    A value nested deeper than :data:`plain` ever writes is damage: ``ValueError``, so
    a hand-made line cannot recurse once per level into a RecursionError."""
    if isinstance(value, list | dict) and depth >= MAX_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return tuple(decode(v, depth + 1) for v in value)
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("bytes"), str):
            return bytes.fromhex(value["bytes"])
        if len(value) == 1 and isinstance(value.get("datetime"), str):
            return datetime.fromisoformat(value["datetime"])
        raise ValueError(f"is a table no input sends: {short(value)}")
    return value
