"""Takes: a recorded performance in a folder, ready to be played again.

::

    takes/20261125-211503-demo/
        video.mp4       what the window showed (H.264 + the input audio as AAC)
        control.jsonl   append-only: a header with every parameter; then, for every
                        generated frame, the display's ticks before it (each with the
                        frame on screen and the events it applied), and the parameters
                        that changed since the frame before (``set``; takes from before
                        this wrote the whole snapshot, ``params``, every frame); an
                        end line with the last picture's time
        patch.toml      the patch as it was
        take.json       model identity, size, fps, start time

The control log is flushed line by line, so a killed process loses at most the line
it was writing. Readers skip, count and report bad lines (a torn last one, or
damage: see :mod:`performer.take.format`); a take whose ``take.json`` is unusable is
refused with a :class:`TakeError`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from performer.control.events import Event
from performer.control.names import safe_name
from performer.control.throttle import Throttle
from performer.take.format import BadLines, TakeError, check, plain, read_lines, same, short

log = logging.getLogger(__name__)

VIDEO, LOG, PATCH, INFO = "video.mp4", "control.jsonl", "patch.toml", "take.json"
FORMAT = 2  # 2: frames carry only the parameters that changed
MAX_INFO = 1 << 20  # bytes of take.json: it holds a few short fields
MAX_FPS = 1000  # far past any display; a typo like 30000 would only spin the loop


class ControlLog:
    """Append-only JSON lines. A write error closes it with a message; play goes on.

    No value stops it: what JSON cannot hold is encoded (bytes, time tags) or written
    as ``{"unlogged": type}`` with a warning, and a record that still cannot be written
    is dropped alone, counted, so the frame's other lines are kept."""

    def __init__(self, path: Path):
        self.path = path
        self.error: str | None = None
        self._lock = threading.Lock()  # the frame thread writes, the display thread closes
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

    def frame(self, number: int, time: float, params: Mapping[str, Any], digest: str) -> None:
        """A generated frame: the parameters that changed since the last one written (a
        held prompt is written once, not 30 times a second)."""
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
        record["sha1"] = digest
        if self.write(record):
            self._params = dict(params)

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
    return (
        value
        if isinstance(value, str) and value.isprintable() and len(value) <= 80
        else (short(value))
    )


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
