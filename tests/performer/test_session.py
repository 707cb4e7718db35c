"""A session with real inputs: events reach the next frame, and floods do not stall it."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from performer.control.events import Event
from performer.control.osc import encode

from performer import patch
from performer.generators.diffusion import DiffusersGenerator
from performer.inputs import InputOptions, Inputs
from performer.session import Session


@pytest.fixture
def session(tiny_models: dict[str, Path]) -> Session:
    s = Session(
        patch.loads(""),
        DiffusersGenerator(str(tiny_models["sd"])),
        overrides={"width": 32, "height": 32},
    )
    s.prepare()
    return s


def test_events_reach_the_next_frame_and_bundles_apply_together(session: Session) -> None:
    session.inbox.put(Event(0.0, "param:era", 1850.0))
    assert session.step().snapshot["era"] == 1850.0
    bundle = (("param:era", 1990.0), ("param:timestep", 0.3))
    session.inbox.put(Event(0.0, "bundle", bundle), coalesce=False)
    snap = session.step().snapshot
    assert (snap["era"], snap["timestep"]) == (1990.0, 0.3)
    session.close()


def test_listeners_hear_changes_with_their_origin(session: Session) -> None:
    heard: list[tuple[list[tuple[str, object]], str]] = []
    session.on_changes(lambda changes, origin: heard.append((changes, origin)))
    session.inbox.put(Event(0.0, "param:guidance", 99.0, origin="udp:127.0.0.1:5"))
    session.step()
    assert heard == [([("guidance", 12.0)], "udp:127.0.0.1:5")]
    session.close()


@pytest.mark.slow
def test_osc_flood_keeps_the_loop_running_and_lands_within_a_frame(session: Session) -> None:
    inputs = Inputs(InputOptions(osc_port=0, oscquery_port=None, midi_virtual=False), session.inbox)
    inputs.start(session)
    (server,) = inputs.started
    session.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(10_000):
            client.sendto(encode("/performer/era", 1840.0 + i * 0.01), server.address)
        # UDP may drop part of a flood when the socket buffer fills; wait for what came
        received = -1
        while server.received != received:
            received = server.received
            time.sleep(0.2)
        assert received > 1000, "the server kept reading during the flood"
        client.sendto(encode("/performer/era", 1999.0), server.address)
        deadline = time.monotonic() + 5
        while server.received == received and time.monotonic() < deadline:
            time.sleep(0.001)
        before = session.latest()
        assert before is not None, "frames kept coming during the flood"
        # the frame after the one being made when the last datagram arrived carries it
        while (f := session.latest()) is not None and f.number < before.number + 2:
            time.sleep(0.005)
        assert f is not None and f.snapshot["era"] == 1999.0
        assert session.errors == 0
    finally:
        client.close()
        session.stop()
        inputs.stop()
        session.close()


@pytest.mark.slow
def test_the_demo_patch_sequences_era_on_a_fake_clock(tiny_models: dict[str, Path]) -> None:
    from performer.control.clock import FakeClock

    clock = FakeClock()
    s = Session(
        patch.load("demo"),
        DiffusersGenerator(str(tiny_models["sd"])),
        clock=clock,
        overrides={"width": 32, "height": 32},
    )
    s.prepare()
    eras = []
    for second in range(0, 32, 4):  # 64 beats at 120 BPM
        clock.set(float(second))
        eras.append(s.step().snapshot["era"])
    s.close()
    assert eras[0] == pytest.approx(1850, abs=5)
    assert eras == sorted(eras) and eras[-1] > 1950, f"era should sweep upwards: {eras}"


@pytest.mark.slow
def test_midi_learn_from_an_osc_command(session: Session, tmp_path: Path) -> None:
    session.inbox.put(Event(0.0, "learn", "guidance"), coalesce=False)
    session.step()
    for raw in (0, 1, 2, 127):  # from the parameter's value (0) up: soft takeover picks it up
        session.inbox.put(Event(0.0, "midi:cc:1:21", raw / 127, raw=raw))
        snap = session.step().snapshot
    assert session.conductor.learned and session.conductor.learned[0]["source"] == "midi:cc:1:21"
    assert snap["guidance"] == 12.0
    session.learned_dir = tmp_path / "learned"
    session.inbox.put(Event(0.0, "learn/save", True), coalesce=False)
    session.step()
    session.worker.stop()  # the file is written on the worker: wait for it
    saved = patch.load(tmp_path / "learned" / "untitled.toml")
    learned = saved.score.mappings[0]
    assert learned.source == "midi:cc:1:21" and learned.param.name == "guidance"
    session.close()
