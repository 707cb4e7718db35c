"""The performer command, run as a performer would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_bad_patch_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[params]\nera = "soon"\n')
    done = performer("render", "--patch", str(bad), "--frames", "1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"performer: error: {bad}: params.era: expected a number in 1840..2030, got 'soon'"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_missing_model_folder_is_one_clear_line(tmp_path: Path) -> None:
    done = performer("render", "--model", str(tmp_path / "nowhere"), "--frames", "1")
    assert done.returncode == 2
    assert f"performer: error: model folder not found: {tmp_path / 'nowhere'}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_bad_set_value_is_refused_by_argparse() -> None:
    done = performer("play", "--set", "era=1700")
    assert done.returncode == 2 and "era: expected a number in 1840..2030" in done.stderr


@pytest.mark.slow
def test_help_names_the_commands_and_keys() -> None:
    top = performer("--help")
    assert all(cmd in top.stdout for cmd in ("play", "render", "devices", "train-embedded"))
    play = performer("play", "--help")
    assert "Esc quits" in play.stdout and "--model" in play.stdout


@pytest.mark.slow
def test_devices_says_plainly_what_is_missing() -> None:
    done = performer("devices", timeout=60)
    assert done.returncode == 0
    for section in ("monitors:", "MIDI ports:", "audio devices:"):
        assert section in done.stdout


@pytest.mark.slow
def test_bad_numbers_on_the_command_line_are_one_argparse_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before, ports past 65535 or below 0 raised OverflowError from the socket, and
    fps 0 or -5 a ValueError, each a traceback once the model had loaded."""
    cases = {
        ("--osc-port", "70000"): "argument --osc-port: a port is 1..65535, got 70000",
        ("--osc-port", "-1"): "argument --osc-port: a port is 1..65535, got -1",
        ("--oscquery-port", "70000"): "argument --oscquery-port: a port is 1..65535, got 70000",
        ("--osc-port", "nine"): "argument --osc-port: expected a port number, got 'nine'",
        ("--fps", "0"): "argument --fps: frames per second are 1..1000, got 0",
        ("--fps", "-5"): "argument --fps: frames per second are 1..1000, got -5",
        ("--seconds", "nan"): "argument --seconds: seconds are a positive number, got 'nan'",
    }
    from performer.cli import build_parser

    parser = build_parser()
    for args, message in cases.items():
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(["play", "--headless", *args])
        assert exited.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message), args
    with pytest.raises(SystemExit):
        parser.parse_args(["render", "--fps", "0"])
    assert "frames per second are 1..1000, got 0" in capsys.readouterr().err
    done = performer("play", "--headless", "--osc-port", "70000", timeout=60)  # for real
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(cases[("--osc-port", "70000")])


def _free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


HEADLESS = ("play", "--headless", "--fps", "10", "--no-oscquery", "--no-midi-virtual")


@pytest.mark.slow
def test_headless_play_into_a_takes_folder_it_cannot_write_plays_on(tmp_path: Path) -> None:
    """Before: AttributeError and the show ended. Now one error line, the show plays
    its seconds, and nothing claims a video that was never written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    takes = blocker / "takes"  # cannot be made, even by root (a read-only disk alike)
    done = performer(*HEADLESS, "--no-osc", "--seconds", "1", "--takes", str(takes), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    errors = [line for line in done.stderr.splitlines() if "cannot start recording" in line]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "played " in done.stderr and "nothing was recorded" in done.stderr
    assert "video.mp4" not in done.stderr


@pytest.mark.slow
def test_after_a_remote_record_stop_play_names_the_take_it_made(tmp_path: Path) -> None:
    """Before, it printed takes/video.mp4, which does not exist."""
    import socket
    import time

    from performer.control.osc import encode

    port = _free_udp_port()
    takes = tmp_path / "takes"
    command = [sys.executable, "-m", "performer.cli", *HEADLESS, "--seconds", "3"]
    command += ["--osc-port", str(port), "--takes", str(takes)]
    show = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
    )
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and show.poll() is None:
            logs = list(takes.glob("*/control.jsonl"))
            if logs and logs[0].stat().st_size > 2000:  # frames are coming
                break
            time.sleep(0.1)
        client.sendto(encode("/performer/record/stop", 1), ("127.0.0.1", port))
        _, stderr = show.communicate(timeout=120)
    finally:
        client.close()
        if show.poll() is None:
            show.kill()
            show.wait()
    assert show.returncode == 0, stderr
    (line,) = [line for line in stderr.splitlines() if "played " in line]
    video = Path(line.rpartition("the video is ")[2])
    assert video.is_file() and video.parent.parent == takes.resolve(), line
    assert "take saved" in stderr


@pytest.mark.slow
def test_rendering_a_take_with_an_unusable_take_json_is_one_line(tmp_path: Path) -> None:
    take = tmp_path / "20261201-000000-demo"
    take.mkdir()
    (take / "take.json").write_text("[1, 2, 3]", encoding="utf-8")
    (take / "control.jsonl").write_text("", encoding="utf-8")
    (take / "patch.toml").write_text('name = "demo"\n', encoding="utf-8")
    done = performer("render", str(take), "--out", str(tmp_path / "out.mp4"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "take.json" in errors[0], done.stderr
