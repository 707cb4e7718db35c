"""ControlNets on the tiny SD and SDXL models, built from their UNets' configs: every knob
changes the picture, a strength of 0 (or a step window that holds no step) is the model
without them, several add up, a still image is a control image, and nothing recompiles.
The preprocessors, specs and patch tables: ``test_controlnet_inputs.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from performer.control.params import ParamStore, Snapshot, forget

from performer.generators.base import GeneratorError, Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.tiny import save_tiny_controlnet

LIVE = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
SQUARE = np.zeros((48, 40, 3), dtype=np.uint8)  # a still of another size than the frame
SQUARE[12:36, 10:30] = 255


@pytest.fixture(scope="module")
def nets(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two different tiny ControlNets for the tiny SD."""
    root = tmp_path_factory.mktemp("controlnets")
    return [save_tiny_controlnet(root / str(n), tiny_models["sd"], seed=n) for n in (0, 1)]


@pytest.fixture(autouse=True)
def _forget_knobs() -> object:
    yield
    for n in range(1, 5):
        forget(f"control_strength_{n}")


def make(folder: Path, *nets: tuple[Path, str], **kwargs: object) -> DiffusersGenerator:
    specs = tuple((str(net), pre) for net, pre in nets)
    gen = DiffusersGenerator(str(folder), controlnets=specs, **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(32, 32, {1850.0: "daguerreotype", 1990.0: "vhs tape"}))
    gen.reset(LIVE)  # a previous frame with structure to hold to
    return gen


def snap(**values: object) -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 0.7, **values}).snapshot()


def frame(gen: DiffusersGenerator, s: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
    gen.reset(LIVE)  # each frame from the same previous frame
    return gen(s, live)


def zero_is_plain_and_one_holds(model: Path, net: tuple[Path, str], s: Snapshot) -> None:
    """With ``net`` on ``model``, strength 0 is the model's own frame and 1 is not."""
    plain, held = make(model), make(model, net)
    try:
        assert np.array_equal(frame(held, s.replace(control_strength=0.0)), frame(plain, s))
        assert not np.array_equal(frame(held, s), frame(plain, s))
    finally:
        plain.close()
        held.close()


def test_control_strength_is_a_knob_and_zero_is_no_controlnet(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    plain, held = make(tiny_models["sd"]), make(tiny_models["sd"], (nets[0], "luma"))
    try:
        s, without = snap(), frame(plain, snap())
        frames = {k: frame(held, s.replace(control_strength=k)) for k in (0.0, 1.0, 2.0)}
        assert np.array_equal(frames[0.0], without)
        assert not np.array_equal(frames[1.0], without)
        assert not np.array_equal(frames[1.0], frames[2.0])
        from_live = frame(held, s.replace(control_source=1), np.zeros_like(LIVE))
        assert not np.array_equal(from_live, frames[1.0]), "the live input is the control image"
    finally:
        plain.close()
        held.close()


def test_several_controlnets_add_up_each_with_its_knob(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    plain = make(tiny_models["sd"])
    one = make(tiny_models["sd"], (nets[0], "luma"))
    two = make(tiny_models["sd"], (nets[0], "luma"), (nets[1], "canny"))
    try:
        s = snap()
        first_only = frame(two, s.replace(control_strength_1=1.0, control_strength_2=0.0))
        assert np.array_equal(first_only, frame(one, s)), "a second one at 0 adds nothing"
        both = frame(two, s.replace(control_strength_1=1.0, control_strength_2=1.5))
        assert not np.array_equal(both, first_only), "control_strength_2 changes the picture"
        second = frame(two, s.replace(control_strength_1=0.0, control_strength_2=1.5))
        assert not np.array_equal(second, both), "control_strength_1 changes the picture"
        off = frame(two, s.replace(control_strength_1=0.0, control_strength_2=0.0))
        assert np.array_equal(off, frame(plain, s))
        assert np.array_equal(frame(two, s.replace(control_strength=0.0)), frame(two, s)), (
            "with several, control_strength is not theirs"
        )
    finally:
        for gen in (plain, one, two):
            gen.close()


def test_control_start_and_end_pick_the_steps(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    plain, held = make(tiny_models["sd"]), make(tiny_models["sd"], (nets[0], "luma"))
    try:
        s = snap(steps=2, control_strength=1.5)
        full, none = frame(held, s), frame(plain, s)
        assert np.array_equal(frame(held, s.replace(control_start=1.0)), none), "no step in it"
        assert np.array_equal(frame(held, s.replace(control_end=0.4)), none), "no step in it"
        first = frame(held, s.replace(control_end=0.5))  # step 0 of 2 only
        last = frame(held, s.replace(control_start=0.5))  # step 1 of 2 only
        for one in (first, last):
            assert not np.array_equal(one, full) and not np.array_equal(one, none)
        assert not np.array_equal(first, last)
    finally:
        plain.close()
        held.close()


def test_a_still_image_is_a_control_image(
    tiny_models: dict[str, Path], nets: list[Path], tmp_path: Path
) -> None:
    from PIL import Image

    still = tmp_path / "square.png"
    Image.fromarray(SQUARE).save(still)
    held = make(tiny_models["sd"], (nets[0], "canny"), control_image=str(still))
    try:
        s = snap()
        from_still = frame(held, s.replace(control_source=2))
        assert not np.array_equal(from_still, frame(held, s)), "the still is the control image"
        assert np.array_equal(from_still, frame(held, s.replace(control_source=2)))
    finally:
        held.close()


def test_a_bad_still_is_one_error_before_the_model_loads(nets: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    specs = ((str(nets[0]), "luma"),)
    for file, error in ((tmp_path / "gone.png", "no such file"), (broken, "not a usable picture")):
        with pytest.raises(GeneratorError, match=error) as caught:
            DiffusersGenerator("no/such-model", controlnets=specs, control_image=str(file))
        assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="pose needs"):
        DiffusersGenerator("no/such-model", controlnets=((str(nets[0]), "pose"),))


def test_an_sdxl_controlnet_holds_the_tiny_sdxl(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    net = save_tiny_controlnet(tmp_path / "xl-controlnet", tiny_models["xl"])
    zero_is_plain_and_one_holds(tiny_models["xl"], (net, "soft_edge"), snap())


def test_an_lcm_model_plays_a_controlnet_made_without_a_guidance_embedding(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    """The LCM UNet's guidance embedding is its own: a ControlNet of the SD family, made
    with none, is not handed it."""
    zero_is_plain_and_one_holds(tiny_models["lcm"], (nets[0], "canny"), snap(guidance=1.5))


def test_similarity_skip_never_hides_a_new_live_control_image(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    """The skip compares where frames start; a live control image is not in that, so a
    frame whose ControlNet reads the live input is always made."""
    held = make(tiny_models["sd"], (nets[0], "luma"), similarity_skip=0.0)  # skip any alike
    try:
        s = snap(control_source=1)  # input_mix 0: the latents alone hold no live input
        first = held(s, LIVE).copy()
        assert not np.array_equal(held(s, 255 - LIVE), first)
    finally:
        held.close()


def test_a_controlnet_of_another_family_is_one_error(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    with pytest.raises(GeneratorError, match="made for another model family"):
        make(tiny_models["xl"], (nets[0], "luma"))


@pytest.mark.slow
def test_control_knobs_and_images_never_recompile(
    tiny_models: dict[str, Path], nets: list[Path], tmp_path: Path
) -> None:
    from PIL import Image
    from torch._dynamo.utils import counters

    still = tmp_path / "square.png"
    Image.fromarray(SQUARE).save(still)
    specs = ((nets[0], "luma"), (nets[1], "canny"))
    reference = make(tiny_models["sd"], *specs, control_image=str(still))
    fast = make(tiny_models["sd"], *specs, control_image=str(still), compile="eager")
    try:
        compiled = counters["stats"]["unique_graphs"]
        assert compiled >= 3
        turns = [
            {"control_strength_1": 0.0, "control_strength_2": 2.0},
            {"control_strength_1": 0.4, "control_start": 0.5, "steps": 2},
            {"control_end": 0.5, "steps": 2, "control_source": 2},
            {"control_strength_2": 0.0, "control_source": 1, "guidance": 1.0},
        ]
        for n, turn in enumerate(turns):  # and a new previous frame every frame
            s = snap(**turn)
            live = np.roll(LIVE, n, axis=1)
            a, b = reference(s, live), fast(s, live)
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 2, f"at {turn}"
        assert counters["stats"]["unique_graphs"] == compiled, "a knob turn recompiled"
    finally:
        reference.close()
        fast.close()


def test_stream_batching_gives_each_step_its_strength(
    tiny_models: dict[str, Path], nets: list[Path]
) -> None:
    plain = make(tiny_models["sd"], stream_batch=True)
    held = make(tiny_models["sd"], (nets[0], "luma"), stream_batch=True)
    try:
        s = snap(steps=2)  # one batch: step 0 of this frame beside step 1 of the last

        def second(gen: DiffusersGenerator, s: Snapshot) -> np.ndarray:
            frame(gen, s)  # the first frame out is the previous one's step 1: only
            return gen(s)  # the second has been through step 0 and step 1

        windows = [{}, {"control_end": 0.5}, {"control_start": 0.5}, {"control_strength": 0.0}]
        made = [second(held, s.replace(**w)) for w in windows]
        assert np.array_equal(made[3], second(plain, s)), "strength 0 is no ControlNet"
        assert len({m.tobytes() for m in made}) == 4, "each window is another picture"
    finally:
        plain.close()
        held.close()
