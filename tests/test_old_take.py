"""A take recorded before the redesign of issue 13 still replays bit-identically.

The fixture was recorded on 2026-12-01 at commit 08213d3 with
``performer play --headless --record --seconds 2.5 --width 32 --height 32 --fps 15``
while OSC moved era and seed; its log holds each generated frame's SHA-1."""

from __future__ import annotations

from pathlib import Path

from performer.generators.embedded import EmbeddedGenerator
from performer.replay import replay

TAKE = Path(__file__).parent / "fixtures" / "take-before-redesign"


def test_a_take_from_before_the_redesign_replays_bit_identically(tmp_path: Path) -> None:
    result = replay(TAKE, EmbeddedGenerator(), tmp_path / "again.mp4", {})
    assert result.frames == 196 and result.compared == 196
    assert result.identical == 196
