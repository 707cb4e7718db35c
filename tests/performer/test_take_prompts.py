"""A take replays bit-identically across prompt changes.

Live, a new prompt (or prompt block) is encoded off the frame path, and the frames made
meanwhile play the texts before it. The take says so on those frames (``played``), and
replay makes each frame with the texts it was made with, however long encoding takes.
The model is the tiny SD one, its own encoder slowed down by a real wait."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import torch
from performer.control.clock import FakeClock
from performer.control.events import Event

from performer import patch
from performer.frames import Frame
from performer.generators.diffusion import DiffusersGenerator
from performer.replay import replay
from performer.session import Session
from performer.take import read_take
from performer.take.format import check, short
from performer.take.recorder import TakeRecorder

PATCH = """
[params]
prompt = "a street"
timestep = 0.7
crossfade = 0.0
"""
NEW = ("a harbour at night", "a red boat")  # the texts whose encoding is held back
FPS = 20


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class HeldPrompts(DiffusersGenerator):
    """The diffusers backend whose encoding of a text holding one of :data:`NEW`
    waits until ``gate`` is set, at most ``delay`` seconds."""

    def __init__(self, folder: Path, delay: float):
        super().__init__(str(folder))
        self.delay, self.gate = delay, threading.Event()

    def _encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor | None]:
        if any(new in text for text in texts for new in NEW):
            self.gate.wait(self.delay)
        return super()._encode(texts)


def record(folder: Path, takes: Path) -> tuple[Path, list[Frame]]:
    """A take of three frames, a prompt change, two frames while its encoding is held,
    the frames until it is in, three more; then the same for a new prompt block."""
    gen = HeldPrompts(folder, delay=60.0)  # live, only the test lets a prompt through
    clock = FakeClock()
    session = Session(patch.loads(PATCH), gen, clock, {"width": 32, "height": 32})
    session.prepare()
    take = TakeRecorder(session, takes, (32, 32), FPS)
    frames: list[Frame] = []

    def step(*events: tuple[str, object]) -> Frame:
        now = len(frames) / FPS
        clock.set(now)
        frame = session.step([Event(now, source, value) for source, value in events])
        if take.due(now):
            take.video(frame.image, now)
        frames.append(frame)
        return frame

    try:
        for _ in range(3):
            step()
        for change in (("param:prompt", NEW[0]), ("param:block_1", NEW[1])):
            gen.gate.clear()
            held = [step(change), step()]
            assert all(f.played for f in held), "made with the texts before the change"
            gen.gate.set()
            for _ in range(200):  # the encoder's thread is a moment behind the gate
                if not step().played:
                    break
            for _ in range(3):
                assert not step().played
    finally:
        take.stop()
        session.close()
    return take.folder, frames


@pytest.mark.slow
def test_frames_made_with_an_earlier_prompt_replay_with_it(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    folder, frames = record(tiny_models["sd"], tmp_path / "takes")
    # 1. The frames made while a prompt encoded say which texts they played.
    played = [f.played for f in frames if f.played]
    assert {"prompt": "a street"} in played and {"block_1": ""} in played
    lines = [json.loads(line) for line in (folder / "control.jsonl").read_text().splitlines()]
    logged = {r["frame"]: r.get("played", {}) for r in lines if r["type"] == "frame"}
    assert logged == {f.number: f.played for f in frames}
    assert read_take(folder).played_logged

    # 2. Replay makes them again with those texts: every frame bit-identical, though
    #    each new text now takes its delay to encode (replay waits for it).
    again = HeldPrompts(tiny_models["sd"], delay=1.0)
    result = replay(folder, again, tmp_path / "again.mp4", {})
    assert result.compared == result.frames == len(frames)
    assert result.identical == result.frames
    assert again.playing == (NEW[0], "")


@pytest.mark.parametrize(
    "played",
    [
        {"zoom": "1.5"},
        {"prompt": 3},
        ["prompt", "a street"],
        {"block_9": "fog"},
        {"prompt": "x" * 2001},
    ],
)
def test_a_frame_line_may_name_only_prompt_texts(played: object) -> None:
    """A hand-edited ``played`` that names anything but a text parameter, or gives it
    anything but a text, leaves its line out (one line of why) rather than the replay
    making a frame from it."""
    line = {"type": "frame", "frame": 4, "t": 0.2, "sha1": "0" * 40, "played": played}
    assert check(line) == (
        f"frame line: 'played' must be a table of prompt texts by parameter, got {short(played)}"
    )
    assert check({**line, "played": {"prompt": "a street", "block_2": ""}}) is None
