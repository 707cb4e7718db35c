"""Reading a take back: its ``take.json``, its control log, and the list of takes.

A take on disk may be cut off, damaged or hand-edited: bad lines are skipped, counted
and reported in one line (see :mod:`performer.take.format`); a take whose
``take.json`` is unusable is refused with a :class:`TakeError`.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from performer.control.events import Event
from performer.frames import Tick
from performer.take.format import (
    INFO,
    LOG,
    MAX_FPS,
    MAX_INFO,
    MAX_TAKE_SECONDS,
    BadLines,
    TakeError,
    check,
    read_lines,
    short,
)

log = logging.getLogger(__name__)

MAX_HOLD = 600.0  # seconds a take's last picture may follow its last frame (a slow model)
BEFORE = 60.0  # seconds before the take's start its first frame's ticks may lie


def read_info(folder: Path) -> dict[str, Any]:
    """A take's ``take.json``, checked: a :class:`TakeError` names what is wrong."""
    path = folder / INFO
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a take (no {INFO})")
    with path.open("rb") as f:
        data = f.read(MAX_INFO + 1)
    if len(data) > MAX_INFO:
        raise TakeError(f"{path}: longer than {MAX_INFO} bytes; not a take's file")
    try:
        info = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TakeError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise TakeError(f"{path}: not usable JSON (nested too deep)") from None
    except ValueError as exc:
        why = getattr(exc, "msg", str(exc).split(";")[0][:80])
        raise TakeError(f"{path}: not JSON ({why})") from None
    if not isinstance(info, dict):
        raise TakeError(f"{path}: expected a JSON object, got a {type(info).__name__}")
    fps = info.get("fps", 30)
    if not isinstance(fps, int) or isinstance(fps, bool) or not 1 <= fps <= MAX_FPS:
        raise TakeError(f"{path}: 'fps' must be a whole number 1 to {MAX_FPS}, got {short(fps)}")
    model = info.get("model_arg")
    if model is not None and not isinstance(model, str):
        raise TakeError(f"{path}: 'model_arg' must be a text or null, got {short(model)}")
    return info


def read_log(path: Path, bad: BadLines | None = None) -> Iterator[dict[str, Any]]:
    """The records of a control log that replay can use, in order. Bad lines (a torn
    last one, damage) are skipped and counted into ``bad``; without it, the count is
    logged in one line at the end."""
    counted = bad if bad is not None else BadLines()
    for number, record in read_lines(path, counted):
        why = check(record)
        if why is None:
            yield record
        else:
            counted.add(number, why)
    if bad is None and counted.count:
        log.warning("%s", counted.summary(path))


# -- a take for replay -----------------------------------------------------------------


@dataclass
class TakeLog:
    """What a take's folder says of its performance."""

    info: dict[str, Any]  # take.json
    frames: list[dict[str, Any]]  # the generated frames' records, in order, each with
    # its whole parameter snapshot as "params" (however the log wrote it)
    ticks: dict[int, list[Tick]]  # by frame number: the display's ticks before its snapshot
    started: float  # when the take began, on the performance clock
    ended: float | None  # when its last picture was shown (None: the take was cut off)
    ticks_logged: bool  # False for takes from before the display's ticks were logged
    shown_logged: bool  # whether the ticks say which frame was on screen (newer takes)
    bad: BadLines = field(default_factory=BadLines)  # lines left out
    opening: dict[str, Any] = field(default_factory=dict)  # the parameters as the take began
    lost: list[tuple[int, int]] = field(default_factory=list)  # (first frame, how many):
    # frames the recorder could not log while it played (its queue was full)
    inputs: list[dict[str, Any] | None] = field(default_factory=list)  # for each frame,
    # the input line of the stored input frame it started from (None: none)
    played_logged: bool = False  # whether frames say the texts they were made with
    # where those were not their snapshot's ("played"; format 3 on)


class _Reading:
    """One pass over a control log: each kind of line adds to what the take says."""

    def __init__(self) -> None:
        self.bad = BadLines()
        self.started: float | None = None
        self.ended: float | None = None
        self.end_line = 0
        self.shown_logged = False
        self.played_logged = False
        self.frames: list[dict[str, Any]] = []
        self.ticks: dict[int, list[Tick]] = defaultdict(list)
        self.loose: dict[int, list[Event]] = defaultdict(list)  # events before any tick
        self.params: dict[str, Any] = {}  # the snapshot so far: frames log what changed
        self.opening: dict[str, Any] = {}
        self.lost: list[tuple[int, int]] = []
        self.stored: dict[int, dict[str, Any]] = {}  # input lines by number, the last kept
        self.inputs: list[dict[str, Any] | None] = []

    def why_not(self, record: dict[str, Any]) -> str | None:
        """Why ``record`` cannot be replayed: its kind's checks, then its time, which
        must lie near the take's own span (the first timed line begins it)."""
        why = check(record)
        if why is None and record.get("type") in ("tick", "event", "frame", "end"):
            self.started = record["t"] if self.started is None else self.started
            if not self.started - BEFORE <= record["t"] <= self.started + MAX_TAKE_SECONDS:
                return f"time {short(record['t'])} outside the take (begun at {self.started})"
        return why

    def add(self, number: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "take":
            self.started = self.started if self.started is not None else record["t"]
            self.params = dict(record.get("params", {}))
            self.opening = dict(self.params)
            version = record.get("format")
            self.played_logged = isinstance(version, int) and version >= 3
        elif kind == "end":
            self.ended, self.end_line = record["t"], number
        elif kind == "frame":
            self.frame(record)
        elif kind == "tick":
            self.ticks[record["frame"]].append(Tick(record["t"], [], record.get("shown")))
            self.shown_logged = self.shown_logged or "shown" in record
        elif kind == "event":
            self.event(record)
        elif kind == "lost":
            self.lost.append((record["frame"], record["frames"]))
        elif kind == "input":  # a source restarted counts from 0 again: the latest line
            self.stored[record["number"]] = record
        # other kinds (probe captures, kinds from newer versions) are not replayed

    def frame(self, record: dict[str, Any]) -> None:
        if "params" in record:  # takes before format 2: the whole snapshot each frame
            self.params = record["params"]
        else:
            self.params = {**self.params, **record.get("set", {})}
            for name in record.get("unset", []):
                if isinstance(name, str):
                    self.params.pop(name, None)
        self.frames.append({**record, "params": self.params})
        number = record.get("input")
        self.inputs.append(None if number is None else self.stored.get(number))

    def event(self, record: dict[str, Any]) -> None:
        event = Event(
            record["t"],
            record["source"],
            record["value"],
            record.get("raw"),
            record.get("origin", ""),
        )
        ticks = self.ticks[record["frame"]]
        (ticks[-1].events if ticks else self.loose[record["frame"]]).append(event)

    def take(self, info: dict[str, Any]) -> TakeLog:
        """The take read, once every line is in."""
        frames, ended = self.frames, self.ended
        if ended is not None and frames and ended - frames[-1]["t"] > MAX_HOLD:
            why = f"end time {ended} is over {MAX_HOLD:.0f} s after the last frame"
            self.bad.add(self.end_line, why)
            ended = None
        ticks, logged = self.ticks, bool(self.ticks)
        if not logged:  # a take from before ticks were logged: each frame ticked at its time
            ticks.update({r["frame"]: [Tick(r["t"], self.loose[r["frame"]])] for r in frames})
        started = self.started
        if started is None:
            started = frames[0]["t"] if frames else 0.0
        return TakeLog(
            info,
            frames,
            ticks,
            started,
            ended,
            logged,
            self.shown_logged,
            self.bad,
            self.opening,
            self.lost,
            self.inputs,
            self.played_logged,
        )


def read_take(folder: Path) -> TakeLog:
    """The take in ``folder``: :class:`TakeError` if its ``take.json`` is unusable;
    bad lines of its log are left out and counted in ``bad``."""
    info = read_info(folder)
    reading = _Reading()
    for number, record in read_lines(folder / LOG, reading.bad):
        why = reading.why_not(record)
        if why is None:
            reading.add(number, record)
        else:
            reading.bad.add(number, why)
    return reading.take(info)


# -- the list of takes -----------------------------------------------------------------


@dataclass(frozen=True)
class TakeSummary:
    folder: Path
    patch: str
    started: str
    frames: int
    seconds: float


def summarize(folder: Path) -> TakeSummary:
    """What ``performer takes`` lists; raises :class:`TakeError` or ``OSError`` for a
    take it cannot read."""
    info = read_info(folder)
    frames, first, last = 0, None, 0.0
    if (folder / LOG).exists():
        bad = BadLines()  # a damaged log still lists; replay reports its lines
        for record in read_log(folder / LOG, bad):
            kind = record.get("type")
            if kind == "take" or (kind == "frame" and first is None):
                first = float(record["t"])
            if kind == "frame":
                frames, last = frames + 1, float(record["t"])
    seconds = last - first if frames and first is not None else 0.0
    patch, started = info.get("patch", "?"), info.get("started", "?")
    return TakeSummary(folder, _text(patch), _text(started), frames, seconds)


def _text(value: Any) -> str:
    """A field printed on a terminal: no escape sequences from a file."""
    if isinstance(value, str) and value.isprintable() and len(value) <= 80:
        return value
    return short(value)


def list_takes(root: Path) -> list[TakeSummary]:
    """The takes in ``root``, oldest first. One that cannot be read is left out with
    one warning naming it and why, so one bad take never hides the others."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if not (folder / INFO).is_file():
            continue
        try:
            found.append(summarize(folder))
        except (OSError, ValueError) as exc:  # TakeError is a ValueError
            log.warning("unreadable take left out: %s", exc)
        except Exception as exc:
            # (a RecursionError from a value nested deep): the listing still goes on
            log.warning("unreadable take left out: %s: %s: %.160s", folder, type(exc).__name__, exc)
    return found
