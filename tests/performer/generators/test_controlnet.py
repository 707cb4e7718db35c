"""A ControlNet on the tiny SD model, built from its UNet's config: control_strength
changes the picture, 0 is the model without it, and no knob or new image recompiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.params import ParamStore, Snapshot
from performer.mappings.tables import PatchError

from performer.generators.base import Setup
from performer.generators.control import grey
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.tiny import save_tiny_controlnet
from performer.patch import loads


@pytest.fixture(scope="module")
def controlnet(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_controlnet(tmp_path_factory.mktemp("controlnet"), tiny_models["sd"])


def make(folder: Path, **kwargs: object) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder), **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(32, 32, {1850.0: "daguerreotype", 1990.0: "vhs tape"}))
    return gen


def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 0.7}).snapshot()


LIVE = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)


def test_control_strength_is_a_knob_and_zero_is_no_controlnet(
    tiny_models: dict[str, Path], controlnet: Path
) -> None:
    plain = make(tiny_models["sd"])
    held = make(tiny_models["sd"], controlnet=str(controlnet))
    try:
        for gen in (plain, held):
            gen.reset(LIVE)  # a previous frame with structure to hold to
        s = snap()
        frames = {k: held(s.replace(control_strength=k)) for k in (1.0, 2.0)}
        held.reset(LIVE)
        off, without = held(s.replace(control_strength=0.0)), plain(s)
        assert np.array_equal(off, without)
        assert not np.array_equal(frames[1.0], without)
        live = make(tiny_models["sd"], controlnet=str(controlnet))
        live.reset(LIVE)
        from_live = live(s.replace(control_source=1), np.zeros_like(LIVE))
        live.close()
        held.reset(LIVE)
        assert not np.array_equal(from_live, held(s)), "the live input is the control image"
    finally:
        plain.close()
        held.close()


def test_control_never_recompiles(tiny_models: dict[str, Path], controlnet: Path) -> None:
    from torch._dynamo.utils import counters

    reference = make(tiny_models["sd"], controlnet=str(controlnet))
    fast = make(tiny_models["sd"], controlnet=str(controlnet), compile="eager")
    try:
        compiled = counters["stats"]["unique_graphs"]
        assert compiled >= 3
        for strength in (1.0, 0.0, 0.4, 2.0):  # and a new previous frame every frame
            s = snap().replace(control_strength=strength, guidance=strength)
            a, b = reference(s), fast(s)
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 2, f"at {strength}"
        assert counters["stats"]["unique_graphs"] == compiled, "a knob turn recompiled"
    finally:
        reference.close()
        fast.close()


def test_the_control_image_is_the_grey_picture() -> None:
    white = np.full((2, 3, 3), 255, dtype=np.uint8)
    image = grey(white, (3, 2), torch.device("cpu"), torch.float32)
    assert image.shape == (1, 3, 2, 3) and torch.allclose(image, torch.ones(1, 3, 2, 3))
    assert grey(None, (3, 2), torch.device("cpu"), torch.float32).abs().sum() == 0


def test_a_patch_declares_its_controlnet() -> None:
    patch = loads('[[controlnets]]\nsource = "org/lineart"\nimage = "input"\nstrength = 0.5\n')
    assert patch.controlnet == "org/lineart"
    assert patch.params == {"control_source": 1, "control_strength": 0.5}
    assert loads("").controlnet is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("controlnets = 1", "controlnets: expected"),
        ('[[controlnets]]\nsource = "a"\n' * 2, "2 ControlNets; at most 1"),
        ('[[controlnets]]\nsource = "a"\nimage = "depth"', r"controlnets\[0\].image: unknown"),
        ('[[controlnets]]\nsource = "a"\nstrength = 3', "expected a number in 0..2"),
        ("[[controlnets]]\nimage = 'input'", r"controlnets\[0\].source: required"),
        ('[[controlnets]]\nsource = "a"\nstrength = 1\n[params]\ncontrol_strength = 1', "set by"),
    ],
)
def test_bad_controlnets_are_one_line_errors(text: str, error: str) -> None:
    with pytest.raises(PatchError, match=error) as caught:
        loads(text)
    assert "\n" not in str(caught.value)
