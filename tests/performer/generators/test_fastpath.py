"""Each fast-path option (``fastpath.py``) against the eager reference (every option off),
on tiny random models.

Compilation here uses dynamo with the ``eager`` backend: it traces and guards exactly
as inductor would (so recompiles show), without inductor's minute-long CPU codegen.
Inductor itself runs with PERFORMER_INDUCTOR_TESTS=1; CUDA graphs need a GPU (``gpu``).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.params import ParamStore, Snapshot

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator

ANCHORS = {1850.0: "daguerreotype", 1990.0: "vhs tape", 2020.0: "phone photo"}
# uint8 levels: the fast path reorders float math (channels_last kernels, fused scalars)
TOLERANCE = 2


def make(folder: Path, size: int = 32, **kwargs: object) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder), **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(size, size, ANCHORS))
    return gen


@pytest.fixture
def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 0.6}).snapshot()


def knob_turns(snap: Snapshot) -> list[Snapshot]:
    """Each live knob the issue names, turned one after another (steps as well). A
    prompt block is there from the first frame (encoded then, not mid-test), at 0."""
    snap = snap.replace(block_1="a red boat", block_1_weight=0.0)
    return [
        snap,
        snap.replace(block_1_weight=0.4),
        snap.replace(block_1_weight=0.9, block_blend=1, prompt_weight=0.5),
        snap.replace(guidance=3.0),
        snap.replace(guidance=0.5, era=1900.0),
        snap.replace(seed=7, seed_travel=0.3),
        snap.replace(timestep=0.9, prompt_mix=0.5),
        snap.replace(steps=2, zoom=1.1),
        snap.replace(guidance=0.0, timestep=1.0),
    ]


def worst(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sd", "lcm", "xl"])
def test_channels_last_gives_the_reference_frames(
    tiny_models: dict[str, Path], snap: Snapshot, kind: str
) -> None:
    reference = make(tiny_models[kind])
    # a similarity threshold no real input reaches: an option on (so channels_last),
    # nothing skipped
    fast = make(tiny_models[kind], similarity_skip=2.0)
    try:
        for s in knob_turns(snap):
            assert worst(reference(s), fast(s)) <= TOLERANCE, f"after {dict(s)}"
    finally:
        reference.close()
        fast.close()


@pytest.mark.slow
def test_compiled_step_matches_the_reference_and_never_recompiles(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    from torch._dynamo.utils import counters

    reference = make(tiny_models["sd"])
    fast = make(tiny_models["sd"], compile="eager")
    try:
        compiled = counters["stats"]["unique_graphs"]
        assert compiled >= 3, "prepare() compiles the step (unguided, guided) and the decode"
        for s in knob_turns(snap):
            assert worst(reference(s), fast(s)) <= TOLERANCE, f"after {dict(s)}"
        assert counters["stats"]["unique_graphs"] == compiled, "a knob turn recompiled"
    finally:
        reference.close()
        fast.close()


@pytest.mark.slow
def test_stream_batching_makes_frames(tiny_models: dict[str, Path], snap: Snapshot) -> None:
    reference = make(tiny_models["sd"])
    stream = make(tiny_models["sd"], stream_batch=True)
    try:
        # one step: a batch of one, the reference frame
        assert worst(reference(snap), stream(snap)) <= TOLERANCE
        frames = [stream(snap.replace(steps=2)) for _ in range(4)]
        for a, b in itertools.pairwise(frames):
            assert a.shape == (32, 32, 3) and a.std() > 5
            assert not np.array_equal(a, b), "each call finishes a new frame"
    finally:
        reference.close()
        stream.close()


def test_similarity_skip_skips_an_identical_input(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    gen = make(tiny_models["sd"], similarity_skip=0.999)
    picture = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    try:
        gen.reset(picture)
        first = gen(snap)
        gen.reset(picture)  # the same input again
        assert np.array_equal(gen(snap), first)
        assert gen.skip.skipped == 1
        gen.reset(picture)
        gen(snap.replace(seed=3))  # a knob turned: generated, however alike the input
        assert gen.skip.skipped == 1
    finally:
        gen.close()


def test_self_cfg_guides_in_one_unet_pass(tiny_models: dict[str, Path], snap: Snapshot) -> None:
    reference = make(tiny_models["sd"])
    gen = make(tiny_models["sd"], cfg="self")
    batches: list[int] = []
    gen.unet.register_forward_pre_hook(lambda _m, args: batches.append(args[0].shape[0]))
    try:
        assert worst(reference(snap), gen(snap)) <= TOLERANCE, "at guidance 0: the reference frame"
        gen.reset()
        off = gen(snap.replace(timestep=1.0))
        gen.reset()
        on = gen(snap.replace(timestep=1.0, guidance=4.0))
        assert np.abs(off.astype(int) - on).mean() > 0.5, "guidance changes the picture"
        assert set(batches) == {1}, "no unconditional pass"
    finally:
        reference.close()
        gen.close()


def test_bad_options_are_clear_errors(tiny_models: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="unknown compile mode 'fastest'"):
        DiffusersGenerator(str(tiny_models["sd"]), compile="fastest")
    # before any loading, not minutes later
    with pytest.raises(ValueError, match="cuda-graphs needs a CUDA device, not cpu"):
        DiffusersGenerator(str(tiny_models["sd"]), cuda_graphs=True, device="cpu")


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PERFORMER_INDUCTOR_TESTS"), reason="inductor on CPU takes minutes"
)
def test_inductor_matches_the_reference(tiny_models: dict[str, Path], snap: Snapshot) -> None:
    reference, fast = make(tiny_models["lcm"]), make(tiny_models["lcm"], compile=True)
    try:
        for s in knob_turns(snap)[:3]:
            assert worst(reference(s), fast(s)) <= TOLERANCE
    finally:
        reference.close()
        fast.close()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphs_match_the_reference_and_never_recompile(
    tiny_models: dict[str, Path], snap: Snapshot
) -> None:
    from torch._dynamo.utils import counters

    reference = make(tiny_models["sd"], size=64, device="cuda")
    fast = make(tiny_models["sd"], size=64, device="cuda", compile=True, cuda_graphs=True)
    try:
        compiled = counters["stats"]["unique_graphs"]
        picture = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
        for s in knob_turns(snap):
            # bf16 with different kernels drifts apart under feedback: start each frame
            # from the same picture, and bound the mean, not the worst pixel
            reference.reset(picture)
            fast.reset(picture)
            diff = np.abs(reference(s).astype(int) - fast(s).astype(int))
            assert diff.mean() < 4, f"after {dict(s)}"
        assert counters["stats"]["unique_graphs"] == compiled
    finally:
        reference.close()
        fast.close()
