"""The session keeps playing through bad input: one failing event never loses the
others, text is bounded, and a held picture is not generated over and over."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest
from performer.control.events import Event
from performer.control.osc import encode
from performer.control.param import MAX_TEXT
from performer.control.params import Snapshot, defaults

from performer import patch
from performer.frames import Frame, Tick
from performer.generators.base import Generator
from performer.generators.embedded import EmbeddedGenerator
from performer.session import HELD_TICKS, Session


@pytest.fixture(scope="module")
def embedded() -> EmbeddedGenerator:
    from performer.generators.base import Setup

    generator = EmbeddedGenerator()
    generator.prepare(Setup())
    return generator


def session_with(generator: Generator, text: str = "", **overrides: object) -> Session:
    generator.reset()
    return Session(patch.loads(text), generator, overrides=overrides)


# -- item 5: one bad event never loses the others --------------------------------------
def test_learning_a_text_parameter_is_one_warning_and_loses_nothing(
    embedded: EmbeddedGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    """``/performer/learn prompt`` then ten seed sets, over real UDP: before, learn
    raised inside the tick and every seed set after it vanished."""
    from performer.inputs import InputOptions, Inputs

    session = session_with(embedded)
    inputs = Inputs(InputOptions(osc_port=0, oscquery_port=None, midi_virtual=False), session.inbox)
    inputs.start(session)
    (server,) = inputs.started
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caplog.set_level(logging.WARNING, logger="performer.actions")
    try:
        client.sendto(encode("/performer/learn", "prompt"), server.address)
        for seed in range(1, 11):
            client.sendto(encode("/performer/seed", seed), server.address)
        deadline = time.monotonic() + 10
        while server.received < 11 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.received == 11
        snap = session.step().snapshot
    finally:
        client.close()
        inputs.stop()
    assert snap["seed"] == 10, "the seed sets after the refused learn still apply"
    assert session.conductor._learner.armed is None
    lines = [r.getMessage() for r in caplog.records if "learn" in r.getMessage()]
    assert len(lines) == 1 and "'prompt' is text" in lines[0], lines
    assert session.event_errors == 0  # refused by design, not by an exception


def test_a_command_that_raises_is_reported_once_and_the_tick_goes_on(
    embedded: EmbeddedGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    session = session_with(embedded)

    def broken(event: Event) -> None:
        raise RuntimeError(f"broken by {event.value}")

    session.commands["broken"] = broken
    caplog.set_level(logging.ERROR, logger="performer.session")
    for i in range(10):
        session.inbox.put(Event(0.0, "broken", i, origin="udp:127.0.0.1:9"), coalesce=False)
    session.inbox.put(Event(0.0, "learn", "no-such-knob"), coalesce=False)
    session.inbox.put(Event(0.0, "param:era", 1901.0))
    session.inbox.put(Event(0.0, "bundle", "not pairs"), coalesce=False)
    session.inbox.put(Event(0.0, "bundle", (("param:seed", 5),)), coalesce=False)
    snap = session.step().snapshot
    assert (snap["era"], snap["seed"]) == (1901.0, 5)
    assert session.event_errors == 11  # ten broken commands and the bad bundle
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # one line per kind a second, naming the source and the sender
    assert len(errors) == 2, errors
    assert "event 'broken' from udp:127.0.0.1:9 failed (RuntimeError: broken by 0)" in errors[0]
    assert "Traceback" not in "\n".join(errors)


# -- item 7(c): text is bounded on every route -------------------------------------------
def test_long_prompts_are_cut_live_and_refused_in_a_file(
    embedded: EmbeddedGenerator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live input (OSC, keys, mappings) is cut to MAX_TEXT with a warning once a second
    per parameter; a patch (its params, scenes and timelines) is told in one line."""
    from performer.patch import PatchError

    long = "a street " * 1000  # 9,000 characters
    for text in (f'[params]\nprompt = "{long}"\n', f'[scenes.sea]\nprompt = "{long}"\n'):
        with pytest.raises(PatchError, match=r"prompt: 9000 characters; at most 2000$"):
            patch.loads(text)
    from performer.control import param
    from performer.control.throttle import Throttle

    monkeypatch.setattr(param, "_cut_warnings", Throttle(1.0, clock=lambda: 0.0))  # no time passes
    caplog.set_level(logging.WARNING, logger="performer.control.param")
    session = session_with(embedded)
    for i in range(50):  # as /performer/prompt_b makes it, again and again
        session.inbox.put(Event(0.0, "param:prompt_b", f"{i} {long}"))
        session.tick(0.0)
    assert session.store.get("prompt_b") == f"49 {long}"[:MAX_TEXT]
    session.store.set("prompt", long)  # any other live route: the store itself cuts
    assert session.store.get("prompt") == long[:MAX_TEXT]
    cut = [r.getMessage() for r in caplog.records if "characters cut" in r.getMessage()]
    assert len(cut) == 2, cut  # once a second per parameter
    assert cut[0] == "prompt_b: 9002 characters cut to the first 2000"


# -- item 7(a): a held picture is not generated again and again ---------------------------
def test_base_rule_for_a_held_picture() -> None:
    snap = Snapshot(defaults())
    hold = Generator.holds
    assert not hold(None, snap)  # type: ignore[arg-type]  # timestep 0.6: a live picture
    assert hold(None, snap.replace(timestep=0.0))  # type: ignore[arg-type]
    for motion in ({"zoom": 1.01}, {"rotate": 1.0}, {"translate_x": 0.1}, {"translate_y": -0.1}):
        assert not hold(None, snap.replace(timestep=0.0, **motion))  # type: ignore[arg-type]


@pytest.mark.slow
def test_timestep_zero_holds_without_spinning_and_wakes_on_a_change(
    embedded: EmbeddedGenerator,
) -> None:
    """Before, timestep 0 made ~34,000 identical frames a second. Now the generator
    waits for a change: a tick that changes a value makes one frame, and a long hold
    makes one frame every HELD_TICKS ticks so the take's log carries them."""
    session = session_with(embedded, timestep=0.0)
    logged: list[tuple[Frame, list[Tick]]] = []
    session.subscribe(lambda frame, ticks: logged.append((frame, ticks)))
    session.start(ticked=True)
    try:
        now = session.clock.now
        deadline = time.monotonic() + 30
        while session.latest() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first = session.latest()
        assert first is not None
        for _ in range(50):  # 0.5 s of display ticks with nothing changing
            session.tick(now())
            time.sleep(0.01)
        assert session.latest() is first, "nothing changed: no new frame"
        assert session.held >= 1
        session.inbox.put(Event(now(), "param:era", 1901.0))
        session.tick(now())
        deadline = time.monotonic() + 10
        while session.latest() is first and time.monotonic() < deadline:
            time.sleep(0.005)
        second = session.latest()
        assert second is not None and second.number == first.number + 1
        assert second.snapshot["era"] == 1901.0
        assert (second.image == first.image).all(), "timestep 0 holds the picture"
        time.sleep(0.3)
        assert session.latest() is second, "held again after the one frame"
        for _ in range(HELD_TICKS):  # a long hold: one frame carries the ticks
            session.tick(now())
        deadline = time.monotonic() + 10
        while session.latest() is second and time.monotonic() < deadline:
            time.sleep(0.005)
        assert session.latest() is not second
        assert len(logged[-1][1]) >= HELD_TICKS
        time.sleep(0.1)
        made = session.latest().number  # type: ignore[union-attr]
        session.inbox.put(Event(now(), "param:timestep", 0.5))  # live again: frames flow
        session.tick(now())
        deadline = time.monotonic() + 20
        while session.latest().number < made + 3 and time.monotonic() < deadline:  # type: ignore[union-attr]
            session.tick(now())
            time.sleep(0.01)
        assert session.latest().number >= made + 3  # type: ignore[union-attr]
    finally:
        session.stop()
    assert session.errors == 0


@pytest.mark.slow
def test_a_take_with_a_held_picture_replays_to_the_same_frames(
    embedded: EmbeddedGenerator, tmp_path: Path
) -> None:
    """Live, held frames are skipped, so the log holds only the frames made; the
    replay makes exactly those, bit for bit."""
    import threading

    from performer.render.headless import Headless

    from performer.live import Stage, play
    from performer.replay import replay

    # in the patch: a replay starts from the take's patch (not from live overrides)
    session = session_with(embedded, "[params]\ntimestep = 0.0\n")
    with Headless(64, 64) as surface:
        stage = Stage(session, surface, fps=20, takes=tmp_path)
        stage.record(True)
        folder = stage.take.folder
        clock = session.clock
        cues = [(0.5, "param:era", 1880.0), (0.8, "param:timestep", 0.4)]
        cues += [(1.0, "param:timestep", 0.0), (1.2, "param:seed", 3)]
        timers = [
            threading.Timer(
                at, lambda s=source, v=value: session.inbox.put(Event(clock.now(), s, v))
            )
            for at, source, value in cues
        ]
        for timer in timers:
            timer.start()
        play(stage, seconds=2.0)
        for timer in timers:
            timer.cancel()
        stage.close()
    made = session.latest().number + 1  # type: ignore[union-attr]
    assert made < 2.0 * 200, "the held picture was not made again and again"
    result = replay(folder, EmbeddedGenerator(), tmp_path / "replay.mp4", {})
    assert result.frames == made
    assert result.compared == made and result.identical == made


def test_a_take_begun_during_a_hold_logs_the_picture_at_once(
    embedded: EmbeddedGenerator, tmp_path: Path
) -> None:
    """Held, no frames come; a take that begins then would have none in its log until
    something changed, and its replay no picture. It asks for one frame."""
    from performer.render.headless import Headless

    from performer.live import Stage

    session = session_with(embedded, timestep=0.0)
    session.start(ticked=True)
    try:
        deadline = time.monotonic() + 30
        while session.latest() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        held = session.latest()
        assert held is not None and session.holding()
        with Headless(32, 32) as surface:
            stage = Stage(session, surface, takes=tmp_path)
            stage.record(True)
            deadline = time.monotonic() + 10
            while session.latest() is held and time.monotonic() < deadline:
                time.sleep(0.005)
            stage.close()
    finally:
        session.stop()
    made = session.latest()
    assert made is not None and made.number == held.number + 1
    (log,) = tmp_path.glob("*/control.jsonl")
    assert '"type":"frame"' in log.read_text(encoding="utf-8")
