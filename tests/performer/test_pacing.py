"""After a stall the display resumes at the present: no burst of catch-up draws, and
one line that says how long it stood still."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from performer.pacing import Pacer


class Time:
    """A fake clock that sleeping moves on, and that a test can jump (a SIGSTOP)."""

    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_a_stall_skips_the_missed_slots_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, fps = Time(), 30
    pacer = Pacer(fps, clock.now())
    caplog.set_level(logging.WARNING, logger="performer.pacing")
    drawn = [pacer.wait(clock.now, clock.sleep) for _ in range(30)]
    clock.t += 5.0  # the process stood still for 5 s
    drawn += [pacer.wait(clock.now, clock.sleep) for _ in range(30)]
    gaps = [b - a for a, b in itertools.pairwise(drawn)]
    assert max(gaps) == pytest.approx(5.0, abs=1 / fps)
    after = gaps[gaps.index(max(gaps)) + 1 :]
    # before, the 150 missed slots were drawn at once; now each draw waits for its slot
    assert min(after) >= 0.9 / fps, "no catch-up burst after the stall"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["display stalled for 5.0 s; resuming at the present"]
    assert pacer.watch.stalls == 1


def test_ordinary_lateness_is_not_a_stall_and_never_bursts() -> None:
    clock, fps = Time(), 60
    pacer = Pacer(fps, clock.now())
    drawn = []
    for i in range(120):
        drawn.append(pacer.wait(clock.now, clock.sleep))
        clock.t += 0.04 if i % 10 == 0 else 0.002  # a slow draw now and then
    gaps = [b - a for a, b in itertools.pairwise(drawn)]
    assert min(gaps) >= 0.5 / fps, "never two pictures within half a period"
    assert pacer.watch.stalls == 0


def test_fps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="fps must be positive, got 0"):
        Pacer(0, 0.0)


def _ticks(log: Path) -> list[float]:
    times = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if isinstance(record, dict) and record.get("type") == "tick":
            times.append(float(record["t"]))
    return sorted(times)


@pytest.mark.slow
def test_headless_play_resumes_at_the_present_after_sigstop(tmp_path: Path) -> None:
    """A real ``performer play``, stopped with SIGSTOP for 2 s and continued: its take's
    display ticks show the gap, then the ordinary pace (before: 60 draws 5 ms apart),
    and its log says once how long the display stood still."""
    fps = 20
    command = [sys.executable, "-m", "performer.cli", "play", "--headless", "--seconds", "8"]
    command += ["--fps", str(fps), "--takes", str(tmp_path), "--no-osc", "--no-oscquery"]
    command += ["--no-midi-virtual"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    show = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 180
        logs: list[Path] = []
        while time.monotonic() < deadline and show.poll() is None:
            logs = list(tmp_path.glob("*/control.jsonl"))
            if logs and len(_ticks(logs[0])) >= 10:
                break
            time.sleep(0.1)
        assert logs and show.poll() is None, "the show should be playing"
        time.sleep(1.0)
        show.send_signal(signal.SIGSTOP)
        time.sleep(2.0)
        show.send_signal(signal.SIGCONT)
        _, stderr = show.communicate(timeout=120)
    finally:
        if show.poll() is None:
            show.kill()
            show.wait()
    assert show.returncode == 0, stderr
    ticks = _ticks(logs[0])
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    stall = gaps.index(max(gaps))
    assert max(gaps) >= 1.8
    after = gaps[stall + 1 : stall + 20]
    assert after and min(after) >= 0.5 / fps, f"a burst after the stall: {after}"
    stalls = [line for line in stderr.splitlines() if "display stalled for" in line]
    assert len(stalls) == 1, stderr
    assert stalls[0].startswith("performer: display stalled for 2.")
    assert "Traceback" not in stderr


class _Window:
    """A window as the play loop sees it (seen, paced by its swap), drawn on a headless
    surface; one poll stalls."""

    hud_visible = False
    seen = True

    def __init__(self, surface: Any, stall_at: int, stall_s: float):
        self.surface, self.ctx = surface, surface.ctx
        self.polls, self.stall_at, self.stall_s = 0, stall_at, stall_s
        self.viewport, self.use, self.read = surface.viewport, surface.use, surface.read

    @property
    def should_close(self) -> bool:
        return self.polls >= self.stall_at + 20

    def poll(self) -> None:
        self.polls += 1
        if self.polls == self.stall_at:
            time.sleep(self.stall_s)  # as if the process had been stopped here

    def take_keys(self) -> list[str]:
        return []

    def swap(self) -> None:
        time.sleep(0.01)  # a 100 Hz display

    def close(self) -> None:
        self.surface.close()


@pytest.mark.slow
def test_the_window_loop_logs_a_stall_once(caplog: pytest.LogCaptureFixture) -> None:
    from performer.render.headless import Headless

    from performer import patch
    from performer.generators.embedded import EmbeddedGenerator
    from performer.live import Stage, play
    from performer.session import Session

    session = Session(patch.loads(""), EmbeddedGenerator())
    session.prepare()
    session.step()
    caplog.set_level(logging.WARNING, logger="performer.pacing")
    with Headless(32, 32) as surface:
        stage = Stage(session, _Window(surface, stall_at=10, stall_s=0.8))
        drawn = play(stage, seconds=30)
        stage.close()
    session.close()
    assert drawn == 30  # one picture per poll: nothing is drawn twice to catch up
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("display stalled for 0.8 s"), lines
