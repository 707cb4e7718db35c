"""The performer command, run as a performer would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import frames_in, needs_ffprobe


def performer(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "performer.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(cwd or Path.home())},
    )


@needs_ffprobe
def test_render_writes_an_mp4_with_n_frames(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "take.mp4"
    done = performer(
        "render",
        "--model",
        str(tiny_models["sd"]),
        "--frames",
        "9",
        "--width",
        "64",
        "--height",
        "48",
        "--out",
        str(out),
        "--set",
        "era=1985",
    )
    assert done.returncode == 0, done.stderr
    assert frames_in(out) == (9, 64, 48)


def test_bad_patch_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[params]\nera = "soon"\n')
    done = performer("render", "--patch", str(bad), "--frames", "1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"performer: error: {bad}: params.era: expected a number in 1840..2030, got 'soon'"
    )
    assert "Traceback" not in done.stderr


def test_missing_model_folder_is_one_clear_line(tmp_path: Path) -> None:
    done = performer("render", "--model", str(tmp_path / "nowhere"), "--frames", "1")
    assert done.returncode == 2
    assert f"performer: error: model folder not found: {tmp_path / 'nowhere'}" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_set_value_is_refused_by_argparse() -> None:
    done = performer("play", "--set", "era=1700")
    assert done.returncode == 2 and "era: expected a number in 1840..2030" in done.stderr


def test_help_names_the_commands_and_keys() -> None:
    top = performer("--help")
    assert all(cmd in top.stdout for cmd in ("play", "render", "devices", "train-embedded"))
    play = performer("play", "--help")
    assert "Esc quits" in play.stdout and "--model" in play.stdout


def test_devices_says_plainly_what_is_missing() -> None:
    done = performer("devices", timeout=60)
    assert done.returncode == 0
    for section in ("monitors:", "MIDI ports:", "audio devices:"):
        assert section in done.stdout
