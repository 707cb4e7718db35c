"""The diffusers backend on tiny random models, loaded from folders through the real code."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.params import ParamStore, Snapshot

from performer.generators.base import GeneratorError, Setup
from performer.generators.diffusion import DiffusersGenerator

ANCHORS = {1850.0: "daguerreotype", 1990.0: "vhs tape", 2020.0: "phone photo"}


def make(folder: Path, **kwargs: object) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder), **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(64, 64, ANCHORS))
    return gen


@pytest.fixture
def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()


@pytest.mark.parametrize("kind", ["sd", "lcm", "xl"])
def test_each_kind_makes_frames(tiny_models: dict[str, Path], snap: Snapshot, kind: str) -> None:
    gen = make(tiny_models[kind])
    try:
        first, second = gen(snap), gen(snap.replace(seed=5))
        assert first.shape == (64, 64, 3) and first.dtype == np.uint8
        assert first.std() > 5, "a frame should not be blank"
        assert not np.array_equal(first, second), "seed should change the picture"
    finally:
        gen.close()


def test_timestep_zero_returns_the_input_frame(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    gen = make(tiny_models["sd"])
    picture = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    gen.reset(picture)
    held = gen(snap.replace(timestep=0.0))
    np.testing.assert_array_equal(held, picture)
    moved = gen(snap.replace(timestep=0.5))
    assert np.abs(moved.astype(int) - picture).mean() > 1, "timestep > 0 should change it"
    np.testing.assert_array_equal(gen(snap.replace(timestep=0.0)), moved)
    gen.close()


def test_era_interpolates_between_anchor_embeddings(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    gen = make(tiny_models["sd"])
    early = gen.conditioning(snap.replace(era=1850)).embeds.flatten()
    late = gen.conditioning(snap.replace(era=1990)).embeds.flatten()
    middle = gen.conditioning(snap.replace(era=1920)).embeds.flatten()
    cos = torch.nn.functional.cosine_similarity
    assert not torch.allclose(early, late), "two eras should give different conditioning"
    ends = cos(early, late, dim=0)
    # the midpoint lies on the arc between the two: closer to each end than they are apart
    assert cos(middle, early, dim=0) > ends and cos(middle, late, dim=0) > ends
    assert torch.isclose(cos(middle, early, dim=0), cos(middle, late, dim=0), atol=1e-4)
    gen.close()


def test_prompt_change_takes_effect_next_frame_without_blank(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    gen = make(tiny_models["sd"])
    for _ in range(3):
        before = gen(snap)
    started = time.perf_counter()
    after = gen(snap.replace(prompt="a harbour at night"))
    took = time.perf_counter() - started
    assert gen.playing == ("a harbour at night", "")
    assert not np.array_equal(before, after)
    assert after.std() > 5, "no grey or blank frame on a prompt change"
    assert took < 2.0, f"prompt change stalled the frame for {took:.2f} s"
    gen.close()


def test_a_replayed_frame_plays_the_texts_it_is_given(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    """Replay hands a frame the texts it was made with live (``replay_with``): it is
    made with them, encoded then and there, and says so (``played``); a frame handed
    none plays its snapshot's own, also encoded before it is made."""
    gen, fresh = make(tiny_models["sd"]), make(tiny_models["sd"])
    try:
        later = snap.replace(prompt="a harbour at night", block_2="fog")
        gen.replay_with({"prompt": "a street", "block_2": ""})
        assert np.array_equal(gen(later), fresh(snap)), "made with the texts handed over"
        assert gen.played(later) == {"prompt": "a street", "block_2": ""}
        gen.replay_with({})
        gen(later)
        assert gen.played(later) == {} and gen.playing == ("a harbour at night", "")
    finally:
        gen.close()
        fresh.close()


@pytest.mark.parametrize("kind", ["sd", "lcm"])
def test_guidance_changes_the_picture(
    tiny_models: dict[str, Path], snap: Snapshot, kind: str
) -> None:
    gen = make(tiny_models[kind])
    off = gen(snap.replace(timestep=1.0, guidance=0.0))
    on = gen(snap.replace(timestep=1.0, guidance=4.0))
    assert np.abs(off.astype(int) - on).mean() > 0.5
    gen.close()


@pytest.mark.slow
def test_feedback_motion_and_steps(tiny_models: dict[str, Path], snap: Snapshot) -> None:
    gen = make(tiny_models["sd"])
    base = gen(snap)
    gen.reset()
    gen(snap)
    assert np.array_equal(gen(snap.replace(timestep=0.0)), base)
    zoomed = gen(snap.replace(timestep=0.0, zoom=1.5))
    assert not np.array_equal(zoomed, base), "zoom should move the held frame"
    four = gen(snap.replace(steps=4, timestep=1.0))
    assert four.shape == base.shape
    gen.close()


def test_tiny_vae_is_used_when_given(tiny_models: dict[str, Path], snap: Snapshot) -> None:
    gen = make(tiny_models["sd"], tiny_vae=str(tiny_models["taesd"]))
    assert type(gen.vae).__name__ == "AutoencoderTiny"
    assert gen(snap).shape == (64, 64, 3)
    gen.close()


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    gen = DiffusersGenerator(str(tmp_path / "nowhere"))
    with pytest.raises(GeneratorError, match="model folder not found"):
        gen.prepare(Setup(64, 64))


def test_folder_without_a_pipeline_is_a_clear_error(tmp_path: Path) -> None:
    gen = DiffusersGenerator(str(tmp_path))
    with pytest.raises(GeneratorError, match="could not load model"):
        gen.prepare(Setup(64, 64))
