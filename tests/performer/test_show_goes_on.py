"""Review findings on the live loop: a generator that never makes a frame, listeners
that fail or are slow, and a window capped below the generator's rate."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from performer.control.events import Event

from performer import patch
from performer.generators.embedded import EmbeddedGenerator
from performer.live import Stage, play
from performer.session import Session


def embedded_session() -> Session:
    session = Session(patch.loads(""), EmbeddedGenerator(), overrides={"width": 64, "height": 64})
    session.prepare()
    return session


@pytest.mark.slow
def test_headless_play_ends_when_no_frame_ever_comes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every frame fails (CUDA out of memory at the size chosen, say): the show ends at
    its time with one line, instead of waiting for a first frame for ever."""
    from performer.render.headless import Headless

    session = embedded_session()

    def out_of_memory(snapshot: object) -> object:
        raise RuntimeError("CUDA out of memory (the test's)")

    monkeypatch.setattr(type(session.generator), "__call__", lambda self, snap: out_of_memory(snap))
    monkeypatch.setattr("performer.live.FIRST_FRAME_S", 1.0)
    with Headless(64, 64) as surface:
        stage = Stage(session, surface, fps=30, takes=tmp_path)
        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(play(stage, 0.5)))
        worker.start()
        worker.join(timeout=20)
        alive = worker.is_alive()
        stage.close()
    session.close()
    assert not alive, "headless play waited for a first frame for ever"
    assert result == [0]
    assert any("no frame came" in r.getMessage() for r in caplog.records)


def test_a_failing_listener_costs_the_others_nothing_and_runs_outside_the_lock() -> None:
    session = embedded_session()
    heard: list[str] = []
    lock_free: list[bool] = []

    def broken(changes: object, origin: str) -> None:
        raise OSError("the controller went away")

    def feedback(changes: object, origin: str) -> None:
        # the generator thread must be able to take the session's lock meanwhile
        def take_the_lock() -> None:
            if session._lock.acquire(timeout=1):
                session._lock.release()
                lock_free.append(True)

        probe = threading.Thread(target=take_the_lock)
        probe.start()
        probe.join()
        heard.append(origin)

    session.on_changes(broken)
    session.on_changes(feedback)
    session.tick(0.0, [Event(0.0, "param:era", 1900.0, origin="udp:127.0.0.1:7")])
    session.close()
    assert heard == ["udp:127.0.0.1:7"]
    assert lock_free == [True]
    assert session.event_errors == 1
