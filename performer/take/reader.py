"""Reading a take back: its folder's ``take.json`` and control log, as replay needs them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from performer.control.events import Event
from performer.session import Tick
from performer.take import log as takes
from performer.take.format import MAX_TAKE_SECONDS, check, read_lines, short


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
    bad: takes.BadLines = field(default_factory=takes.BadLines)  # lines left out
    opening: dict[str, Any] = field(default_factory=dict)  # the parameters as the take began


MAX_HOLD = 600.0  # seconds a take's last picture may follow its last frame (a slow model)
BEFORE = 60.0  # seconds before the take's start its first frame's ticks may lie


def read_take(folder: Path) -> TakeLog:
    """The take in ``folder``: :class:`TakeError` if its ``take.json`` is unusable;
    bad lines of its log are left out and counted in ``bad``."""
    info = takes.read_info(folder)
    started: float | None = None
    ended: float | None = None
    shown_logged = False
    frames: list[dict[str, Any]] = []
    ticks: dict[int, list[Tick]] = defaultdict(list)
    loose: dict[int, list[Event]] = defaultdict(list)  # events with no tick line before them
    params: dict[str, Any] = {}  # the snapshot so far: frames may log only what changed
    opening: dict[str, Any] = {}
    bad, end_line = takes.BadLines(), 0
    path = folder / takes.LOG
    for number, record in read_lines(path, bad):
        why = check(record)
        kind = record.get("type")
        if why is None and kind in ("tick", "event", "frame", "end"):
            started = record["t"] if started is None else started
            if not started - BEFORE <= record["t"] <= started + MAX_TAKE_SECONDS:
                why = f"time {short(record['t'])} outside the take (begun at {started})"
        if why is not None:
            bad.add(number, why)
        elif kind == "take":
            started = started if started is not None else record["t"]
            params = dict(record.get("params", {}))
            opening = dict(params)
        elif kind == "end":
            ended, end_line = record["t"], number
        elif kind == "frame":
            if "params" in record:  # takes before format 2: the whole snapshot each frame
                params = record["params"]
            else:
                params = {**params, **record.get("set", {})}
                for name in record.get("unset", []):
                    if isinstance(name, str):
                        params.pop(name, None)
            frames.append({**record, "params": params})
        elif kind == "tick":
            ticks[record["frame"]].append(Tick(record["t"], [], record.get("shown")))
            shown_logged = shown_logged or "shown" in record
        elif kind == "event":
            event = Event(
                record["t"],
                record["source"],
                record["value"],
                record.get("raw"),
                record.get("origin", ""),
            )
            number_ = record["frame"]
            (ticks[number_][-1].events if ticks[number_] else loose[number_]).append(event)
    if ended is not None and frames and ended - frames[-1]["t"] > MAX_HOLD:
        bad.add(end_line, f"end time {ended} is over {MAX_HOLD:.0f} s after the last frame")
        ended = None
    logged = bool(ticks)
    if not logged:  # a take from before ticks were logged: each frame ticked at its own time
        ticks.update({r["frame"]: [Tick(r["t"], loose[r["frame"]])] for r in frames})
    if started is None:
        started = frames[0]["t"] if frames else 0.0
    return TakeLog(info, frames, ticks, started, ended, logged, shown_logged, bad, opening)
