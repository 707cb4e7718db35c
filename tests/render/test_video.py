"""The video writer, checked with ffprobe and by decoding with PyAV."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from performer.render.video import VideoWriteError, VideoWriter, read_audio

Card = Callable[[int, int], np.ndarray]


def probe(path: Path) -> dict[str, int]:
    """Frame count and size as ffprobe (an independent reader) sees them."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not found (Debian package: ffmpeg)")
    command = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0"]
    command += ["-show_entries", "stream=nb_read_frames,width,height", "-of", "json", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=20)
    stream = json.loads(result.stdout)["streams"][0]
    return {key: int(value) for key, value in stream.items()}


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_twelve_frames_are_written_and_read_back(tmp_path: Path, card: Card, suffix: str):
    path = tmp_path / f"take{suffix}"
    with VideoWriter(path, 64, 48, fps=30) as writer:
        for _ in range(12):
            writer.write(card(64, 48))
    assert writer.frames_written == 12
    assert probe(path) == {"width": 64, "height": 48, "nb_read_frames": 12}
    frames = decode(path)
    assert len(frames) == 12
    last = frames[-1].astype(int)
    np.testing.assert_allclose(last[30, 12], (255, 0, 0), atol=12)  # red half
    np.testing.assert_allclose(last[30, 52], (0, 0, 255), atol=12)  # blue half
    np.testing.assert_allclose(last[8, 8], (255, 255, 255), atol=12)  # square, top-left


def test_odd_size_is_padded_to_even(tmp_path: Path):
    path = tmp_path / "odd.mp4"
    frame = np.zeros((47, 63, 3), np.uint8)
    frame[:, :, 1] = 200  # green everywhere, so edge padding stays green
    with VideoWriter(path, 63, 47, fps=24) as writer:
        assert writer.encoded_size == (64, 48)
        for _ in range(3):
            writer.write(frame)
    assert probe(path) == {"width": 64, "height": 48, "nb_read_frames": 3}
    decoded = decode(path)[0].astype(int)
    np.testing.assert_allclose(decoded[47, 63], (0, 200, 0), atol=12)


def test_wrong_frame_shape_is_refused(tmp_path: Path):
    writer = VideoWriter(tmp_path / "x.mp4", 32, 32, fps=30)
    with pytest.raises(ValueError, match="32×32×3 uint8"):
        writer.write(np.zeros((32, 16, 3), np.uint8))
    writer.close()
    writer.close()  # safe twice
    with pytest.raises(RuntimeError, match="after close"):
        writer.write(np.zeros((32, 32, 3), np.uint8))


def test_disk_full_names_the_file(tmp_path: Path):
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is not available to simulate a full disk")
    path = tmp_path / "full.mp4"
    path.symlink_to("/dev/full")  # every write fails with ENOSPC
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    writer = VideoWriter(path, 64, 64, fps=30, preset="ultrafast")
    with pytest.raises(VideoWriteError, match=r"full\.mp4") as caught:
        for _ in range(60):
            writer.write(noise)
        writer.close()  # the error may surface only when the encoder flushes
    writer.close()  # after a failed write: releases the file, raises nothing more
    assert isinstance(caught.value, OSError)


_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from performer.render.video import VideoWriter
writer = VideoWriter(sys.argv[1], 64, 64, fps=30, preset="ultrafast")
for i in range(60):
    writer.write(np.full((64, 64, 3), i * 4, np.uint8))
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_killed_recording_stays_readable(tmp_path: Path, suffix: str):
    path = tmp_path / f"killed{suffix}"
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=root, timeout=60)
    frames = probe(path)["nb_read_frames"]
    assert frames >= 30, f"only {frames} of 60 frames survived the kill"


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
@pytest.mark.parametrize("first", [0, 1845, 9600])
@pytest.mark.parametrize("live", [True, False])
def test_audio_and_video_stay_in_sync_in_the_file(
    tmp_path: Path, first: int, suffix: str, live: bool
):
    """Clicks written at the times of white frames decode at those frames' times, however
    the audio arrives: starting late, with a lost block, with a block placed early."""
    rate, fps, path = 48000, 30, tmp_path / f"av{suffix}"
    signal = np.zeros(rate * 2, np.float32)
    flashes = [15, 31, 46]  # frames; the clicks sound at their times
    for index in flashes:
        signal[index * rate // fps :][:48] = 0.8
    with VideoWriter(
        path, 32, 32, fps, audio_rate=rate, audio_channels=1, zerolatency=live
    ) as video:
        index = 0  # frames and blocks are handed over as they come, as when playing
        for i, start in enumerate(range(first, len(signal) - 512, 512)):
            while index * rate < start * fps:
                video.write(np.full((32, 32, 3), 255 if index in flashes else 0, np.uint8))
                index += 1
            if i == 10:
                continue  # a lost block: a gap of 512
            at = start - 100 if i == 40 else start  # a block placed early: an overlap
            video.write_audio(signal[at : at + 512, None], start=at)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        clicks: list[float] = []
        for frame in container.decode(stream):
            at = float((frame.pts or 0) * (stream.time_base or 0))
            for i in np.flatnonzero(np.abs(frame.to_ndarray()[0]) > 0.4):
                if not clicks or at + i / rate - clicks[-1] > 0.1:
                    clicks.append(at + i / rate)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        white = [
            float((frame.pts or 0) * (stream.time_base or 0))
            for frame in container.decode(stream)
            if frame.to_ndarray(format="gray").mean() > 128
        ]
    assert len(clicks) == len(white) == 3
    assert np.abs(np.subtract(white, clicks)).max() < 0.002


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
@pytest.mark.parametrize("live", [True, False])
def test_audio_read_back_sits_where_it_was_written(tmp_path: Path, suffix: str, live: bool):
    """read_audio gives each sample the position write_audio was given (the encoder's
    priming and the muxer's shift taken out), so a replay can write it again in place."""
    rate, path = 48000, tmp_path / f"a{suffix}"
    signal = np.zeros(rate, np.float32)
    clicks = [4321, 20000, 33333]
    for at in clicks:
        signal[at : at + 48] = 0.8
    with VideoWriter(path, 32, 32, 30, audio_rate=rate, audio_channels=1, zerolatency=live) as v:
        for i, start in enumerate(range(0, rate, 480)):
            if i % 16 == 0:
                v.write(np.zeros((32, 32, 3), np.uint8))
            v.write_audio(signal[start : start + 480, None], start=start)
    audio = read_audio(path)
    assert audio is not None and audio[0] == rate
    heard = []
    for block, start in audio[1]:
        for i in np.flatnonzero(np.abs(block[:, 0]) > 0.4):
            if not heard or start + i - heard[-1] > 100:
                heard.append(start + i)
    assert heard == clicks
