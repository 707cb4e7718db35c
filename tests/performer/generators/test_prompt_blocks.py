"""Prompt blocks on the tiny SD model: each block's weight is a knob, weight 0 is no block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.clock import FakeClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.params import ParamStore, Snapshot
from performer.mappings.tables import PatchError

from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.prompts import encode_bank
from performer.patch import loads

ANCHORS = {1850.0: "daguerreotype", 1990.0: "vhs tape"}


@pytest.fixture(scope="module")
def gen(tiny_models: dict[str, Path]) -> Iterator[DiffusersGenerator]:
    g = DiffusersGenerator(str(tiny_models["sd"]))
    g.prepare(Setup(32, 32, ANCHORS))
    yield g
    g.close()


def frame(gen: DiffusersGenerator, snap: Snapshot) -> np.ndarray:
    gen.reset()
    return gen(snap)


def base() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 1.0, "era": 1900.0}).snapshot()


def test_a_block_weight_changes_the_picture(gen: DiffusersGenerator) -> None:
    plain = frame(gen, base())
    half = frame(gen, base().replace(block_1="a red boat", block_1_weight=0.5))
    full = frame(gen, base().replace(block_1="a red boat", block_1_weight=1.0))
    assert not np.array_equal(plain, half)
    assert not np.array_equal(half, full)


@pytest.mark.parametrize("blend", [0, 1])
def test_a_block_at_weight_zero_is_no_block(gen: DiffusersGenerator, blend: int) -> None:
    plain = frame(gen, base().replace(block_blend=blend))
    zero = base().replace(block_2="a red boat", block_2_weight=0.0, block_blend=blend)
    assert np.array_equal(plain, frame(gen, zero))


def test_prompt_weight_zero_leaves_only_the_blocks(gen: DiffusersGenerator) -> None:
    only = frame(gen, base().replace(prompt="a red boat"))
    block = base().replace(block_3="a red boat", prompt_weight=0.0)
    assert np.array_equal(only, frame(gen, block))


def test_blocks_blend_as_a_weighted_mean_with_era_on_each() -> None:
    def encode(texts: list[str]) -> tuple[torch.Tensor, None]:
        # one embedding per text: its length, so each anchor's text is told apart
        return torch.tensor([[[float(len(t))]] for t in texts]), None

    bank = encode_bank(encode, ("ab", "", "abcd", "", "abcdef", ""), ANCHORS, "{prompt} {era}")
    assert bank.blocks == (0, 2)
    # at 1850 each text carries " daguerreotype" (14 characters): 16, 18, 20
    cond = bank.at(1850.0, 0.0, (1.0, 0.0, 0.5, 0.0))
    assert cond.embeds.item() == pytest.approx((16 + 18 + 0.5 * 20) / 2.5)
    # era moves each block too: at 1990 " vhs tape" (9 characters)
    cond = bank.at(1990.0, 0.0, (0.0, 0.0, 1.0, 0.0), base=0.0)
    assert cond.embeds.item() == pytest.approx(15.0)


def test_a_block_is_encoded_off_the_frame_path(gen: DiffusersGenerator) -> None:
    snap = base()
    gen(snap)
    calls: list[str] = []
    encode = gen._encoder._encode  # type: ignore[union-attr]

    def counting(texts: list[str]) -> object:
        calls.append(threading.current_thread().name)
        return encode(texts)

    gen._encoder._encode = counting  # type: ignore[union-attr,assignment]
    try:
        moved = snap.replace(block_4="a red boat")
        for _ in range(50):
            gen(moved)
            if gen._cond_bank.blocks:  # the new bank reached a frame
                break
        assert set(calls) == {"prompt-encoder"}, "encoded on the encoder's thread only"
        before = len(calls)
        for weight in (0.2, 0.6, 0.9):
            gen(moved.replace(block_4_weight=weight))
        assert len(calls) == before, "a weight turn encodes nothing"
    finally:
        gen._encoder._encode = encode  # type: ignore[union-attr]


def test_a_patch_declares_blocks_as_parameters() -> None:
    patch = loads('[[prompts]]\ntext = "a red boat"\nweight = 0.5\n[[prompts]]\ntext = "fog"\n')
    assert patch.params == {
        "block_1": "a red boat",
        "block_1_weight": 0.5,
        "block_2": "fog",
        "block_2_weight": 1.0,
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("prompts = 3", r"prompts: expected \[\[prompts\]\] tables"),
        ("[[prompts]]\nweight = 1", r"prompts\[0\].text: required"),
        ('[[prompts]]\ntext = ""', r"prompts\[0\].text: expected a prompt"),
        ('[[prompts]]\ntext = "a"\nweight = 3', r"prompts\[0\].weight: expected a number in 0..1"),
        ('[[prompts]]\ntext = "a"\nhue = 1', r"prompts\[0\].hue: unknown key"),
        ("[[prompts]]\ntext = 'a'\n" * 5, "5 prompt blocks; at most 4"),
        ('[params]\nblock_1 = "x"\n[[prompts]]\ntext = "a"', "params.block_1: set by"),
    ],
)
def test_bad_blocks_are_one_line_errors(text: str, error: str) -> None:
    with pytest.raises(PatchError, match=error) as caught:
        loads(text)
    assert "\n" not in str(caught.value)


def test_osc_sets_a_blocks_text_and_weight() -> None:
    router = OscRouter(Inbox(), FakeClock(10.0), ParamStore())
    router.handle(encode("/performer/block_2", "a", "red boat"), ("127.0.0.1", 50000))
    router.handle(encode("/performer/block_2_weight", 0.25), ("127.0.0.1", 50000))
    got = [(e.source, e.value) for e in router.inbox.drain()]
    assert got == [("param:block_2", "a red boat"), ("param:block_2_weight", 0.25)]
