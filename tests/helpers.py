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
