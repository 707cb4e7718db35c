"""Does a take's picture move? Its video's longest still, against what its log allows.

A take's log holds a fingerprint of every generated frame; its video holds what the
audience saw. The picture may stand still only while the generator kept making the
same picture: the video's longest still can be no longer than the log's longest run of
identical frames (until a different one came), plus a display period or two. The show
check in the tests and ``bench/show_check.py`` compare the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from performer.take.format import LOG, VIDEO

STILL_LEVEL = 0.003 * 255
"""Mean absolute difference (0-255 levels) under which two video frames are one still:
ffmpeg's ``freezedetect`` default noise, -50 dB, 0.003 of full scale."""


@dataclass(frozen=True)
class Motion:
    video_still_s: float  # the video's longest still, in seconds
    log_still_s: float  # the longest time the log's generated picture stayed the same
    generated_fps: float  # generated frames per second, from the log
    display_fps: float  # display ticks per second, from the log
    video_frames: int

    @property
    def ratio(self) -> float:
        """Generator rate over display rate (above 1: the generator is faster)."""
        return self.generated_fps / self.display_fps if self.display_fps else 0.0


def video_still_s(video: Path, skip_s: float = 0.5) -> tuple[float, int]:
    """The longest still in ``video`` after its first ``skip_s`` (the fade-in), and the
    number of frames decoded. A file cut short by a crash is read up to the cut."""
    import av

    longest, start, last_t = 0.0, None, None
    previous: np.ndarray | None = None
    count = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                t = float(frame.time or 0.0)
                picture = frame.to_ndarray(format="gray").astype(np.int16)
                count += 1
                if previous is not None and t >= skip_s:
                    if np.abs(picture - previous).mean() >= STILL_LEVEL:
                        start = None
                    else:
                        start = start if start is not None else (last_t or 0.0)
                        longest = max(longest, t - start)
                previous, last_t = picture, t
        except av.error.InvalidDataError:
            pass  # a truncated last packet
    return longest, count


def log_motion(log: Path) -> tuple[float, float, float]:
    """(longest same-picture time, generated fps, display fps) from a take's log."""
    frames: list[tuple[float, str]] = []
    ticks: list[float] = []
    with log.open(encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("type") == "frame":
                frames.append((float(record["t"]), str(record["sha1"])))
            elif record.get("type") == "tick":
                ticks.append(float(record["t"]))
    longest, run_start = 0.0, None
    for (t, sha), (t_next, sha_next) in pairwise(frames):
        run_start = t if run_start is None else run_start
        if sha_next != sha:
            longest = max(longest, t_next - run_start)
            run_start = None
    return longest, _rate([t for t, _ in frames]), _rate(ticks)


def _rate(times: list[float]) -> float:
    values = sorted(times)
    if len(values) < 2 or values[-1] <= values[0]:
        return 0.0
    return (len(values) - 1) / (values[-1] - values[0])


def measure(take: Path) -> Motion:
    """The motion of the take in folder ``take``."""
    video_s, count = video_still_s(take / VIDEO)
    log_s, generated, display = log_motion(take / LOG)
    return Motion(video_s, log_s, generated, display, count)
