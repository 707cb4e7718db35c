"""Slow work leaves the display thread: learn/save's file and the probe's statistics."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from performer.control.events import Event

from performer import actions, patch
from performer.generators.embedded import EmbeddedGenerator
from performer.session import Session
from performer.worker import Worker


@pytest.fixture
def session() -> Session:
    s = Session(patch.loads(""), EmbeddedGenerator(), overrides={"width": 32, "height": 32})
    s.prepare()
    return s


def test_the_learned_file_is_written_on_the_worker_not_the_display_thread(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: list[threading.Thread] = []

    def write(path: Path, tables: list[dict[str, Any]]) -> Path:
        writers.append(threading.current_thread())
        return real(path, tables)

    real = actions.write_learned
    monkeypatch.setattr(actions, "write_learned", write)
    session.learned_dir = tmp_path
    session.inbox.put(Event(0.0, "learn", "guidance"), command=True)
    session.tick(0.0)
    for raw in (0, 1, 2):
        session.inbox.put(Event(0.0, "midi:cc:1:21", raw / 127, raw=raw))
        session.tick(0.0)
    session.inbox.put(Event(0.0, "learn/save", True), command=True)
    session.tick(0.0)  # the display thread runs the command
    session.close()  # and the worker finishes what it was given
    assert writers and writers[0] is not threading.current_thread()
    assert (tmp_path / "untitled.toml").exists()


def test_the_probe_statistics_are_computed_on_the_worker(
    session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from performer.render.headless import Headless

    from performer.live import Stage
    from performer.probe import capture as probing

    counted: list[threading.Thread] = []
    real = probing.capture

    def capture(*args: Any) -> dict[str, Any]:
        counted.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(probing, "capture", capture)
    caplog.set_level(logging.INFO, logger="performer.live")
    session.step()
    with Headless(32, 32) as surface:
        stage = Stage(session, surface)
        session.inbox.put(Event(0.0, "probe", True), command=True)
        stage.tick(0.0)
        stage.close()
    session.close()
    assert counted and counted[0] is not threading.current_thread()
    assert any(r.getMessage().startswith("probe: era 1") for r in caplog.records)


def test_a_busy_worker_refuses_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    worker, gate = Worker(waiting=1), threading.Event()
    assert worker.run("the first", gate.wait)
    deadline = time.monotonic() + 5
    while worker._queue.qsize() and time.monotonic() < deadline:  # the first is running
        time.sleep(0.01)
    assert worker.run("the second", lambda: None)
    assert not worker.run("the third", lambda: None)
    gate.set()
    worker.stop()
    worker.stop()
    assert worker.refused == 1
    assert [r.getMessage() for r in caplog.records] == [
        "busy: the third left undone (1 chores waiting)"
    ]
