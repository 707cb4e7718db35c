"""Writing a take: its folder (:func:`new_take`) and its control log (:class:`ControlLog`).

The control log is flushed line by line, so a killed process loses at most the line
it was writing (and the frames the recorder had not yet handed to it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from performer.control.events import Event
from performer.control.names import safe_name
from performer.control.throttle import Throttle
from performer.control.video.frames import InputFrame
from performer.take.format import FORMAT, INFO, PATCH, plain, same
from performer.take.inputs import Stored

log = logging.getLogger(__name__)


class ControlLog:
    """Append-only JSON lines. A write error closes it with a message; play goes on.

    No value stops it: what JSON cannot hold is encoded (bytes, time tags) or written
    as ``{"unlogged": type}`` with a warning, and a record that still cannot be written
    is dropped alone, counted, so the frame's other lines are kept."""

    def __init__(self, path: Path):
        self.path = path
        self.error: str | None = None
        self._lock = threading.Lock()  # the recorder's thread and the display's (probe) write
        self._file: IO[str] | None = path.open("a", encoding="utf-8")
        self._params: dict[str, Any] | None = None  # as last written: frames log changes
        self.unlogged = 0  # values written as {"unlogged": type}
        self.dropped = 0  # records that could not be written at all
        self._warnings = Throttle(1.0)  # one line a second for each of the two

    def write(self, record: Mapping[str, Any]) -> bool:
        """Append ``record``; False if it was dropped (closed, or impossible to write)."""
        unknown: list[str] = []
        try:
            line = json.dumps(plain(record, unknown), separators=(",", ":"), allow_nan=False)
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. an int of 5,000 digits
            self.dropped += 1
            kind = record.get("type")
            self._warn("dropped", "a %s line was dropped (%d so far): %s", kind, self.dropped, exc)
            return False
        if unknown:
            self.unlogged += len(unknown)
            what = unknown[0]
            self._warn("unlogged", "%s values written as unlogged (%d so far)", what, self.unlogged)
        with self._lock:
            if self._file is None:
                return False
            try:
                self._file.write(line + "\n")
                self._file.flush()
            except OSError as exc:
                self.error = f"writing {self.path} failed: {exc.strerror or exc}"
                log.error("control log stopped: %s; the performance goes on", self.error)
                self._close()
                return False
        return True

    def _warn(self, key: str, message: str, *args: Any) -> None:
        self._warnings.log(log, logging.WARNING, key, f"control log {self.path}: {message}", *args)

    def header(self, info: Mapping[str, Any], time: float, params: Mapping[str, Any]) -> None:
        """The take's first line: its identity and every parameter at its start."""
        if self.write({"type": "take", **info, "format": FORMAT, "t": time, "params": params}):
            self._params = dict(params)

    def tick(self, frame: int, time: float, shown: int | None) -> None:
        """The events after this line, up to the next tick, were applied at ``time``,
        when frame ``shown`` was on screen."""
        self.write({"type": "tick", "frame": frame, "t": time, "shown": shown})

    def event(self, frame: int, event: Event) -> None:
        record = {
            "type": "event",
            "frame": frame,
            "t": event.time,
            "source": event.source,
            "value": event.value,
        }
        if event.raw is not None:
            record["raw"] = event.raw
        if event.origin:
            record["origin"] = event.origin
        self.write(record)

    def input(self, frame: InputFrame, stored: Stored) -> None:
        """An input frame, stored in the take as ``stored`` says: before the first
        frame that started from it."""
        self.write(
            {
                "type": "input",
                "number": frame.number,
                "index": frame.index,
                "t": frame.time,
                "file": stored.file,
                "at": stored.at,
                "sha1": stored.sha1,
            }
        )

    def frame(
        self,
        number: int,
        time: float,
        params: Mapping[str, Any],
        digest: str,
        input_number: int | None = None,
        played: Mapping[str, str] | None = None,
    ) -> None:
        """A generated frame: the parameters that changed since the last one written (a
        held prompt is written once, not 30 times a second), the number of the stored
        input frame it started from, if any, and the texts it was made with where they
        were not its parameters' (``played``)."""
        record: dict[str, Any] = {"type": "frame", "frame": number, "t": time}
        last = self._params
        if last is None:
            record["params"] = dict(params)
        else:
            changed = {k: v for k, v in params.items() if k not in last or not same(last[k], v)}
            gone = [k for k in last if k not in params]
            if changed:
                record["set"] = changed
            if gone:
                record["unset"] = gone
        if input_number is not None:
            record["input"] = input_number
        if played:
            record["played"] = dict(played)
        record["sha1"] = digest
        if self.write(record):
            self._params = dict(params)

    def lost(self, frame: int, frames: int) -> None:
        """``frames`` frames from frame ``frame`` on were never logged: the recorder's
        queue was full. A replay says so: it differs from the show after the gap."""
        self.write({"type": "lost", "frame": frame, "frames": frames})

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                log.error("closing %s failed: %s", self.path, exc)
            self._file = None


def new_take(root: Path, patch_name: str, patch_text: str, info: Mapping[str, Any]) -> Path:
    """Make a fresh take folder, always directly in ``root`` whatever the patch is
    called, with the patch and the model's identity in it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{safe_name(patch_name)}"
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = root / (base if n == 1 else f"{base}-{n}")
        try:
            folder.mkdir()  # not exists() then mkdir(): two takes in one second race
        except FileExistsError:
            continue
        (folder / PATCH).write_text(patch_text, encoding="utf-8")
        text = json.dumps(plain({**info, "started": stamp}, []), indent=2)
        (folder / INFO).write_text(text, encoding="utf-8")
        return folder
    raise FileExistsError(f"{root / base}: 999 takes of that name began in this second")
