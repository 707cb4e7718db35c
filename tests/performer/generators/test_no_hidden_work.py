"""A frame of the diffusers backend makes again only what a knob changed: the noise
only when the seed or seed travel moved, the steps' text conditioning and guidance
embedding only when the conditioning or guidance did, at any step count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from performer.control.params import ParamStore, Snapshot

from performer.generators import fastpath
from performer.generators.base import Setup
from performer.generators.common import seed_noise
from performer.generators.diffusion import DiffusersGenerator

ANCHORS = {1850.0: "daguerreotype", 1990.0: "vhs tape"}


def make(folder: Path) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder))
    gen.prepare(Setup(32, 32, ANCHORS))
    return gen


@pytest.fixture
def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_an_unchanged_seed_makes_no_new_noise(
    tiny_models: dict[str, Path],
    snap: Snapshot,
    steps: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []

    def counted(shape: tuple[int, ...], seed: int, travel: float = 0.0) -> torch.Tensor:
        made.append(seed)
        return seed_noise(shape, seed, travel)

    monkeypatch.setattr(fastpath, "seed_noise", counted)
    gen = make(tiny_models["sd"])
    try:
        for _ in range(3):
            gen(snap.replace(steps=steps))
        assert len(made) == steps, "one noise per step, made on the first frame only"
        gen(snap.replace(steps=steps, seed_travel=0.5))
        assert len(made) == 2 * steps, "seed travel moved: new noise"
    finally:
        gen.close()


def test_the_steps_conditioning_is_made_once_per_change(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    gen = make(tiny_models["sd"])
    seen: list[torch.Tensor] = []  # held, so no storage is freed and reused between steps

    def look(_module: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        seen.append(kwargs["encoder_hidden_states"])

    gen.unet.register_forward_pre_hook(look, with_kwargs=True)
    try:
        guided = snap.replace(steps=2, guidance=3.0)
        for _ in range(3):
            gen(guided)
        assert seen[0].shape[0] == 2, "uncond and cond in one batch"
        assert len({t.data_ptr() for t in seen}) == 1, "made once for six steps"
        gen(guided.replace(era=1900.0))
        assert len({t.data_ptr() for t in seen}) == 2, "made again when era moved"
        gen(guided.replace(era=1900.0, guidance=2.0))
        assert len({t.data_ptr() for t in seen}) == 2, "still guided: the same batch"
        gen(guided.replace(era=1900.0, guidance=0.0))
        assert seen[-1].shape[0] == 1, "unguided: cond alone"
    finally:
        gen.close()


def test_the_guidance_embedding_is_made_once_per_guidance(
    tiny_models: dict[str, Path], snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[float] = []
    embed = fastpath.guidance_embedding

    def counted(w: float, *args: Any) -> torch.Tensor:
        made.append(w)
        return embed(w, *args)

    monkeypatch.setattr(fastpath, "guidance_embedding", counted)
    gen = make(tiny_models["lcm"])
    try:
        for _ in range(3):
            gen(snap.replace(steps=2, guidance=1.5))
        gen(snap.replace(steps=2, guidance=2.5))
        assert made == [1.5, 2.5]
    finally:
        gen.close()
