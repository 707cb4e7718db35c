"""Takes: a recorded performance in a folder, ready to be played again.

::

    takes/20261125-211503-demo/
        video.mp4       what the window showed (H.264 + the input audio as AAC)
        control.jsonl   append-only: a header; then, for every generated frame, the
                        display's ticks before it (each with the frame on screen and
                        the events it applied), and its parameter snapshot; an end
                        line with the last picture's time
        patch.toml      the patch as it was
        take.json       model identity, size, fps, start time

The control log is flushed line by line, so a killed process loses at most the line
it was writing; readers skip a torn last line.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from performer.events import Event

log = logging.getLogger(__name__)

VIDEO, LOG, PATCH, INFO = "video.mp4", "control.jsonl", "patch.toml", "take.json"


def _plain(value: Any) -> Any:
    """JSON has no tuples, NaN or inf: write what replays back the same."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ControlLog:
    """Append-only JSON lines. A write error closes it with a message; play goes on."""

    def __init__(self, path: Path):
        self.path = path
        self.error: str | None = None
        self._lock = threading.Lock()  # the frame thread writes, the display thread closes
        self._file: IO[str] | None = path.open("a", encoding="utf-8")

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(line)
                self._file.flush()
            except OSError as exc:
                self.error = f"writing {self.path} failed: {exc.strerror or exc}"
                log.error("control log stopped: %s; the performance goes on", self.error)
                self._close()

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
            "value": _plain(event.value),
        }
        if event.raw is not None:
            record["raw"] = event.raw
        if event.origin:
            record["origin"] = event.origin
        self.write(record)

    def frame(self, number: int, time: float, params: Mapping[str, Any], digest: str) -> None:
        self.write(
            {"type": "frame", "frame": number, "t": time, "params": dict(params), "sha1": digest}
        )

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
    """Make a fresh take folder with the patch and the model's identity in it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / f"{stamp}-{patch_name}"
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"{stamp}-{patch_name}-{n}"
    folder.mkdir(parents=True)
    (folder / PATCH).write_text(patch_text, encoding="utf-8")
    (folder / INFO).write_text(json.dumps({**info, "started": stamp}, indent=2), encoding="utf-8")
    return folder


def read_log(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a control log; a torn last line (a killed recording) is skipped."""
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: torn line skipped (the recording was cut off)", path, number)


@dataclass(frozen=True)
class TakeSummary:
    folder: Path
    patch: str
    started: str
    frames: int
    seconds: float


def summarize(folder: Path) -> TakeSummary:
    info = json.loads((folder / INFO).read_text(encoding="utf-8"))
    frames, last = 0, 0.0
    if (folder / LOG).exists():
        for record in read_log(folder / LOG):
            if record.get("type") == "frame":
                frames, last = frames + 1, float(record["t"])
    return TakeSummary(folder, info.get("patch", "?"), info.get("started", "?"), frames, last)


def list_takes(root: Path) -> list[TakeSummary]:
    if not root.is_dir():
        return []
    return [summarize(f) for f in sorted(root.iterdir()) if (f / INFO).is_file()]
