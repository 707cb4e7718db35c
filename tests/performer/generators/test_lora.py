"""Live LoRAs on the tiny SD model: a LoRA made with PEFT (``tiny.save_tiny_lora``), in
diffusers' and kohya's key names; its weight is a knob, 0 is the model without it, and
no knob recompiles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.clock import FakeClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.params import REGISTRY, ParamStore, Snapshot, forget
from performer.mappings.tables import PatchError

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.lora import LoraLayer, LoraSpec
from performer.generators.tiny import save_tiny_lora
from performer.patch import loads
from performer.patch_loras import parse_spec

peft = pytest.importorskip("peft")
safetensors = pytest.importorskip("safetensors.torch")


def as_kohya(diffusers_file: Path, out: Path, alpha: float) -> Path:
    """The same LoRA under kohya's key names, with an alpha per layer."""
    kohya = {}
    for key, tensor in safetensors.load_file(diffusers_file).items():
        module, part = re.fullmatch(
            r"unet\.(.+)\.(lora\.down|lora\.up|lora_A|lora_B)\.weight", key
        ).groups()
        name = "lora_unet_" + module.replace(".", "_")
        side = "down" if part in ("lora.down", "lora_A") else "up"
        kohya[f"{name}.lora_{side}.weight"] = tensor
        kohya[f"{name}.alpha"] = torch.tensor(alpha)
    safetensors.save_file(kohya, out)
    return out


@pytest.fixture(scope="module")
def lora_file(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_lora(tmp_path_factory.mktemp("lora"), tiny_models["sd"])


@pytest.fixture
def declared() -> Iterator[None]:
    yield
    for name in [n for n in REGISTRY if n.startswith("lora_")]:
        forget(name)


def make(folder: Path, loras: tuple[LoraSpec, ...] = (), **kwargs: object) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder), loras=loras, **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(32, 32, {1850.0: "daguerreotype", 1990.0: "vhs tape"}))
    return gen


def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 1.0}).snapshot()


def frame(gen: DiffusersGenerator, s: Snapshot) -> np.ndarray:
    gen.reset()
    return gen(s)


def test_a_lora_weight_is_a_knob_and_zero_is_no_lora(
    tiny_models: dict[str, Path], lora_file: Path, declared: None
) -> None:
    plain = make(tiny_models["sd"])
    live = make(tiny_models["sd"], (LoraSpec(str(lora_file), "ink"),))
    try:
        assert REGISTRY["lora_ink"].hi == 2.0
        wrapped = [m.base for m in live.unet.modules() if isinstance(m, LoraLayer)]
        kinds = {type(m) for m in wrapped}
        assert kinds == {torch.nn.Linear, torch.nn.Conv2d}, "attention and resnet convs"
        s = snap()
        assert s["lora_ink"] == 1.0
        without = frame(plain, s)
        full, half = frame(live, s), frame(live, s.replace(lora_ink=0.5))
        assert not np.array_equal(full, without) and not np.array_equal(half, full)
        assert np.array_equal(frame(live, s.replace(lora_ink=0.0)), without)
        assert np.array_equal(frame(live, s), full), "back to 1: the same picture again"
    finally:
        plain.close()
        live.close()


def test_sdxl_plays_a_live_lora_too(
    tiny_models: dict[str, Path], tmp_path: Path, declared: None
) -> None:
    lora = save_tiny_lora(tmp_path, tiny_models["xl"])
    plain = make(tiny_models["xl"])
    live = make(tiny_models["xl"], (LoraSpec(str(lora), "ink"),))
    try:
        s = snap()
        assert not np.array_equal(frame(live, s), frame(plain, s))
        assert np.array_equal(frame(live, s.replace(lora_ink=0.0)), frame(plain, s))
    finally:
        plain.close()
        live.close()


def test_a_snapshot_from_before_the_knob_plays_it_at_its_default(
    tiny_models: dict[str, Path], lora_file: Path, declared: None
) -> None:
    early = snap()  # taken before the generator declared lora_ink
    live = make(tiny_models["sd"], (LoraSpec(str(lora_file), "ink"),))
    try:
        assert "lora_ink" not in early
        assert np.array_equal(frame(live, early), frame(live, snap().replace(lora_ink=1.0)))
    finally:
        live.close()


def test_kohya_key_names_load_as_the_same_lora(
    tiny_models: dict[str, Path], lora_file: Path, tmp_path: Path, declared: None
) -> None:
    # alpha 8 on rank 4 doubles the term: kohya's weight 0.5 is diffusers' weight 1
    kohya = as_kohya(lora_file, tmp_path / "ink_kohya.safetensors", alpha=8.0)
    a = make(tiny_models["sd"], (LoraSpec(str(lora_file), "ink"),))
    b = make(tiny_models["sd"], (LoraSpec(str(kohya), "kohya"),))
    try:
        s = snap()
        ours = frame(a, s.replace(lora_ink=1.0))
        theirs = frame(b, s.replace(lora_kohya=0.5))
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
    finally:
        a.close()
        b.close()


@pytest.mark.slow
def test_lora_weights_never_recompile(
    tiny_models: dict[str, Path], lora_file: Path, declared: None
) -> None:
    from torch._dynamo.utils import counters

    reference = make(tiny_models["sd"], (LoraSpec(str(lora_file), "ink"),))
    fast = make(tiny_models["sd"], (LoraSpec(str(lora_file), "ink"),), compile="eager")
    try:
        compiled = counters["stats"]["unique_graphs"]
        assert compiled >= 3, "prepare() compiled the step, LoRA layers in it, and the decode"
        for weight in (1.0, 0.0, 0.3, 1.7, 2.0, 0.0):
            s = snap().replace(lora_ink=weight)
            a, b = reference(s), fast(s)
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 2, f"at {weight}"
        assert counters["stats"]["unique_graphs"] == compiled, "a LoRA weight recompiled"
    finally:
        reference.close()
        fast.close()


def test_lora_specs_name_their_knob() -> None:
    assert parse_spec("latent-consistency/lcm-lora-sdv1-5") == (
        "latent-consistency/lcm-lora-sdv1-5",
        None,
    )
    assert parse_spec("styles/ink.safetensors:ink") == ("styles/ink.safetensors", "ink")
    assert parse_spec(r"C:\loras\ink.safetensors") == (r"C:\loras\ink.safetensors", None)
    with pytest.raises(ValueError, match="LoRA name 'Ink!'"):
        parse_spec("ink.safetensors:Ink!")


def test_a_patch_declares_its_loras_as_knobs(declared: None) -> None:
    patch = loads(
        '[[loras]]\nsource = "ink.safetensors"\nname = "ink"\nweight = 0.5\n'
        '[[loras]]\nsource = "org/fog"\nname = "fog"\n'
        "[scenes.dark]\nlora_fog = 2.0\n"
    )
    assert patch.loras == (("ink.safetensors", "ink"), ("org/fog", "fog"))
    assert patch.params == {"lora_ink": 0.5}
    assert ParamStore(patch.params).snapshot()["lora_fog"] == 1.0
    router = OscRouter(Inbox(), FakeClock(10.0), ParamStore())
    router.handle(encode("/performer/lora_fog", 0.25), ("127.0.0.1", 50000))
    assert [(e.source, e.value) for e in router.inbox.drain()] == [("param:lora_fog", 0.25)]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("loras = 1", "loras: expected"),
        ('[[loras]]\nsource = "a"\nname = "Ink"', r"loras\[0\].name: LoRA name 'Ink'"),
        ('[[loras]]\nsource = "a"\nname = "i"\nweight = 3', "expected a number in 0..2"),
        ('[[loras]]\nname = "i"', r"loras\[0\].source: required"),
        ('[[loras]]\nsource = "a"\nname = "i"\n' * 2, "a second LoRA named 'i'"),
        ('[[loras]]\nsource = "a"\nname = "i"\nweight = 1\n[params]\nlora_i = 1', "set by"),
        ('[[loras]]\nsource = "a"\nname = "i"\nstrength = 1', "unknown key"),
    ],
)
def test_bad_loras_are_one_line_errors(text: str, error: str, declared: None) -> None:
    with pytest.raises(PatchError, match=error) as caught:
        loads(text)
    assert "\n" not in str(caught.value)


def test_the_command_line_takes_live_loras_and_the_fused_one(declared: None) -> None:
    from performer.cli import build_parser

    args = build_parser().parse_args(
        ["play", "--lora", "lcm/lora", "--lora", "a.safetensors:ink", "--set", "lora_ink=0.5"]
    )
    assert args.lora == "lcm/lora" and args.loras == [("a.safetensors", "ink")]
    assert dict(args.sets) == {"lora_ink": 0.5}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--lora", "a", "--lora", "b"])
    # a patch's LoRA is declared when the patch loads, after the arguments are read
    assert build_parser().parse_args(["play", "--set", "lora_fog=2"]).sets == [("lora_fog", 2.0)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--set", "lora_fog=3"])


def test_a_patch_s_lora_knob_can_be_learned_from_midi(declared: None) -> None:
    from performer.actions import learn_targets

    assert "lora_ink" not in learn_targets()
    loads('[[loras]]\nsource = "org/ink"\nname = "ink"\n')
    assert "lora_ink" in learn_targets()
