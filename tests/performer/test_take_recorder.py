"""The recorder's own thread: the generator hands each frame over and goes on; the
fingerprint and the log lines are made behind it, in order, and nothing is lost
silently."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from performer.control.clock import FakeClock

from performer import patch
from performer.frames import Frame
from performer.generators.embedded import EmbeddedGenerator
from performer.session import Session
from performer.take import digest, read_take
from performer.take import recorder as recorder_module
from performer.take.recorder import TakeRecorder
from performer.take.writer import ControlLog

PATCH = """
[params]
crossfade = 0.0
[timelines.era]
lfo = "sine"
period = 1
lo = 1900
hi = 2000
"""


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _session() -> tuple[Session, FakeClock]:
    clock = FakeClock()
    session = Session(
        patch.loads(PATCH), EmbeddedGenerator(), clock=clock, overrides={"width": 32, "height": 32}
    )
    session.prepare()
    return session, clock


def _steps(session: Session, clock: FakeClock, first: int, count: int) -> list[Frame]:
    frames = []
    for n in range(first, first + count):
        clock.set(n / 20)
        frames.append(session.step())
    return frames


def _lines(take: TakeRecorder) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (take.folder / "control.jsonl").read_text().splitlines()]


def test_the_fingerprint_and_the_lines_are_made_off_the_generator_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread that steps the session (here the test's) neither hashes nor writes;
    a slow writer is drained by stop(): every frame is logged, in order, as it was."""
    hashed_on: list[int] = []
    written_on: list[int] = []

    def slow_digest(image: np.ndarray) -> str:
        hashed_on.append(threading.get_ident())
        time.sleep(0.01)  # behind the generator: frames wait in the queue
        return digest(image)

    real_write = ControlLog.write

    def write(log: ControlLog, record: Any) -> bool:
        written_on.append(threading.get_ident())
        return real_write(log, record)

    monkeypatch.setattr(recorder_module, "digest", slow_digest)
    monkeypatch.setattr(ControlLog, "write", write)
    session, clock = _session()
    take = TakeRecorder(session, tmp_path, (32, 32), 20)
    written_on.clear()  # the header, written as the take begins
    frames = _steps(session, clock, 0, 10)
    take.stop()
    session.close()
    me = threading.get_ident()
    assert len(hashed_on) == 10 and me not in hashed_on, "no SHA-1 on the generator thread"
    assert written_on and me not in written_on, "no log line written on the generator thread"
    logged = [r for r in _lines(take) if r["type"] == "frame"]
    assert [r["frame"] for r in logged] == [f.number for f in frames], "stop() drained them"
    assert [r["sha1"] for r in logged] == [digest(f.image) for f in frames]
    kinds = [r["type"] for r in _lines(take)]
    assert kinds[0] == "take" and kinds[1:3] == ["tick", "frame"], "each frame after its ticks"


def test_a_stalled_writer_never_holds_the_generator_and_each_gap_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The queue holds QUEUE_FRAMES frames. While the writer is stuck (a stalled disk)
    the generator goes on; the frames past the bound are counted, warned of once a
    second, and the log says where they fell and how many."""
    monkeypatch.setattr(recorder_module, "QUEUE_FRAMES", 4)
    stuck, release = threading.Event(), threading.Event()

    def stalled_digest(image: np.ndarray) -> str:
        stuck.set()
        release.wait(10)
        return digest(image)

    monkeypatch.setattr(recorder_module, "digest", stalled_digest)
    caplog.set_level(logging.WARNING, logger=recorder_module.__name__)
    session, clock = _session()
    handed: list[float] = []  # the recorder's time at each frame, between two listeners
    session.subscribe(lambda frame, ticks: handed.append(-time.perf_counter()))
    take = TakeRecorder(session, tmp_path, (32, 32), 20)
    session.subscribe(lambda frame, ticks: handed.append(handed.pop() + time.perf_counter()))
    _steps(session, clock, 0, 1)
    assert stuck.wait(5), "the writer took frame 0 and is stuck in it"
    began = time.perf_counter()
    _steps(session, clock, 1, 11)  # 4 fill the queue; 7 do not fit
    burst = time.perf_counter() - began
    assert max(handed) < 0.5, f"the generator waited {max(handed):.1f} s for the writer"
    assert take.lost == 7
    warned = [r for r in caplog.records if "not logged" in r.getMessage()]
    assert 1 <= len(warned) <= burst + 1, "once a second"
    release.set()
    deadline = time.monotonic() + 5
    while not take._frames.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    _steps(session, clock, 12, 2)  # room again: the gap is written before frame 12
    take.stop()
    session.close()
    records = [r for r in _lines(take) if r["type"] in ("frame", "lost")]
    assert [(r["type"], r["frame"]) for r in records] == [
        ("frame", 0),
        ("frame", 1),
        ("frame", 2),
        ("frame", 3),
        ("frame", 4),
        ("lost", 5),
        ("frame", 12),
        ("frame", 13),
    ]
    assert records[5]["frames"] == 7
    assert read_take(take.folder).lost == [(5, 7)], "a replay can say so"


def test_frames_lost_at_the_very_end_are_logged_by_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "QUEUE_FRAMES", 1)
    stuck, release = threading.Event(), threading.Event()

    def stalled_digest(image: np.ndarray) -> str:
        stuck.set()
        release.wait(10)
        return digest(image)

    monkeypatch.setattr(recorder_module, "digest", stalled_digest)
    session, clock = _session()
    take = TakeRecorder(session, tmp_path, (32, 32), 20)
    _steps(session, clock, 0, 1)
    assert stuck.wait(5)
    _steps(session, clock, 1, 4)  # frame 1 waits in the queue; 2, 3 and 4 are lost
    release.set()
    take.stop()
    session.close()
    lost = [r for r in _lines(take) if r["type"] == "lost"]
    assert lost == [{"type": "lost", "frame": 2, "frames": 3}]
