"""Small helpers the tests share."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

needs_ffprobe = pytest.mark.skipif(
    shutil.which("ffprobe") is None, reason="needs ffprobe (apt install ffmpeg)"
)


def frames_in(video: Path) -> tuple[int, int, int]:
    """(frames, width, height) of a video's first stream, as ffprobe reads it."""
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,width,height",
            "-of",
            "json",
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    return int(stream["nb_read_frames"]), stream["width"], stream["height"]


def can_unshare() -> bool:
    """Whether a private network namespace can be made here (root, iproute2, unshare)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_private_network = pytest.mark.skipif(
    not can_unshare(), reason="needs unshare -n and ip (root, Debian iproute2)"
)


def in_private_network(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a Python ``script`` in a fresh network namespace with multicast on loopback only,
    so Link and mDNS traffic never leaves it (see TESTBED.md)."""
    import os
    import shlex
    import sys

    command = (
        "ip link set lo up && ip link set lo multicast on && "
        "ip route add 224.0.0.0/4 dev lo && "
        f"exec {shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def video_seconds(video: Path) -> float:
    """How far a video's pictures reach, from its last readable packet (frames may skip)."""
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    ends = []
    for line in probe.stdout.split():
        pts, _, duration = line.partition(",")
        if pts not in ("", "N/A"):
            ends.append(float(pts) + (float(duration) if duration not in ("", "N/A") else 0.0))
    return max(ends, default=0.0)
