"""The embedded generator with the real, shipped weights: shape, knobs, replay."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from performer.control.params import Snapshot, defaults

from performer.embedded import dataset, stats
from performer.generators import embedded
from performer.generators.base import GeneratorError, Setup
from performer.generators.embedded import EmbeddedGenerator

# Mean absolute differences in 8-bit levels, measured with the shipped weights (era-v2;
# see docs/embedded-model.md) and asserted with margin:
GUIDANCE_DIFF = 20.0  # guidance 0 vs 4, fresh frame, era 1925, seed 3: measured 42.7
TIMESTEP_DIFF = 15.0  # timestep 0.2 vs 0.9 from the same record: measured 21.9
ERA_DIFF = 30.0  # era 1850 vs 2020, fresh frames, seeds 0-3: measured 48.1


@pytest.fixture(scope="module")
def gen() -> EmbeddedGenerator:
    g = EmbeddedGenerator()
    g.prepare(Setup(width=512, height=512))  # ignored: the model has its native size
    return g


@pytest.fixture
def snap() -> Snapshot:
    return Snapshot(defaults()).replace(era=1925.0, seed=3, prompt="")


def diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference, in 8-bit levels."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_frames_are_native_size_uint8(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    gen.reset()
    frame = gen(snap)
    assert gen.size == (64, 64)
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    assert gen.identity == "embedded:era-v2"


def test_unprepared_generator_refuses(snap: Snapshot) -> None:
    with pytest.raises(GeneratorError, match="prepare"):
        EmbeddedGenerator()(snap)


def test_timestep_zero_holds_the_frame_bit_identically(
    gen: EmbeddedGenerator, snap: Snapshot
) -> None:
    gen.reset()
    first = gen(snap)
    held = gen(snap.replace(timestep=0.0, zoom=1.2))
    assert np.array_equal(first, held)


def test_reset_with_a_picture_feeds_back_from_it(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    picture = np.kron(dataset.sample(5, 1990.0), np.ones((2, 2, 1), np.uint8))  # 128×128
    gen.reset(picture)
    held = gen(snap.replace(timestep=0.0))
    assert held.shape == (64, 64, 3)
    assert diff(held, dataset.sample(5, 1990.0)) < 1.0


def test_guidance_changes_the_frame(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    frames = {}
    for g in (0.0, 4.0):
        gen.reset()
        frames[g] = gen(snap.replace(timestep=1.0, guidance=g))
    assert diff(frames[0.0], frames[4.0]) > GUIDANCE_DIFF


def test_timestep_sets_how_far_the_frame_moves(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    start = dataset.sample(11, 1925.0)
    out = {}
    for t in (0.2, 0.9):
        gen.reset(start)
        out[t] = gen(snap.replace(timestep=t))
    assert diff(out[0.2], out[0.9]) > TIMESTEP_DIFF
    assert diff(out[0.9], start) > diff(out[0.2], start)


def test_era_changes_the_frame(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    frames = {}
    for era in (1850.0, 2020.0):
        gen.reset()
        frames[era] = np.stack([gen(snap.replace(timestep=1.0, era=era, seed=s)) for s in range(4)])
    assert diff(frames[1850.0], frames[2020.0]) > ERA_DIFF
    sat = {era: stats.named(f)[:, 0].mean() for era, f in frames.items()}
    assert sat[2020.0] > sat[1850.0] + 0.1


def test_replay_from_reset_gives_the_same_frames(gen: EmbeddedGenerator, snap: Snapshot) -> None:
    moves = [
        snap.replace(timestep=1.0),
        snap.replace(zoom=1.05, rotate=3.0, era=1960.0),
        snap.replace(steps=2, guidance=2.0, translate_x=0.05, seed_travel=0.3),
        snap.replace(timestep=0.0),
        snap.replace(steps=4, prompt="night crowd", era=2010.0),
    ]

    def play() -> list[np.ndarray]:
        gen.reset()
        return [gen(s) for s in moves]

    for a, b in zip(play(), play(), strict=True):
        assert np.array_equal(a, b)


def test_the_prompt_is_read_once_per_change(
    gen: EmbeddedGenerator, snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    words = embedded._words

    def counted(prompt: str) -> torch.Tensor:
        read.append(prompt)
        return words(prompt)

    monkeypatch.setattr(embedded, "_words", counted)
    gen.reset()
    gen(snap.replace(prompt="dusk"))  # whatever the fixture played before
    read.clear()
    gen.reset()
    night = [gen(snap.replace(prompt="night crowd")) for _ in range(3)]
    gen(snap.replace(prompt="day traffic"))
    assert read == ["night crowd", "day traffic"]
    gen.reset()
    assert np.array_equal(gen(snap.replace(prompt="night crowd")), night[0])
    assert read == ["night crowd", "day traffic", "night crowd"]
