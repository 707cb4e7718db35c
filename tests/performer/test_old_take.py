"""A take recorded before the redesign of issue 13 still replays bit-identically.

The fixture was recorded on 2026-12-01 at commit 08213d3 with
``performer play --headless --record --seconds 2.5 --width 32 --height 32 --fps 15``
while OSC moved era and seed; its log holds each generated frame's SHA-1. It is replayed
the way a performer would, by ``performer render TAKE`` (the embedded model on one torch
thread, as the command sets it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TAKE = Path(__file__).resolve().parents[1] / "fixtures" / "take-before-redesign"


@pytest.mark.slow
@pytest.mark.slow
def test_a_take_from_before_the_redesign_replays_bit_identically(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "performer.cli",
            "render",
            str(TAKE),
            "--out",
            str(tmp_path / "a.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "196 of 196 frames bit-identical to the take" in out.stderr + out.stdout
