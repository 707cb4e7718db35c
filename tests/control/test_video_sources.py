"""Video sources for real: files written here with PyAV, lavfi through the camera's code
path, a screen under Xvfb. Each picture carries its own number as black and white
blocks, which survive H.264, NDI and resampling."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from performer.control.clock import FakeClock, MonotonicClock
from performer.control.video import VideoSourceError, open_source, parse_source
from performer.control.video.ffmpeg import FFmpegSource
from performer.control.video.file import FileSource
from performer.control.video.frames import InputFrame, NewestFrame
from performer.control.video.testcard import number_in, numbered

FPS = 30


def write_numbered(path: Path, frames: int, fps: int = FPS, gop: int = 12) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "10", "g": str(gop), "bf": "2"}
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(numbered(n), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture(scope="module")
def numbered_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_numbered(tmp_path_factory.mktemp("video") / "numbered.mkv", 45)


def test_a_file_offline_is_frame_exact_and_loops(numbered_file: Path) -> None:
    source = open_source(str(numbered_file), FakeClock())
    assert isinstance(source, FileSource)
    assert (source.frames, source.fps) == (45, 30)
    in_order = [number_in(source.frame_at(n)) for n in range(45)]
    assert in_order == list(range(45))
    jumps = [44, 3, 40, 0, 45, 50, 89, 7, 7]  # back, forward past a GOP, and looped
    assert [number_in(source.frame_at(n)) for n in jumps] == [n % 45 for n in jumps]
    assert source.index_at(7 / 30) == 7  # n / fps lands on n despite rounding
    source.stop()


def latest_is(source: FileSource, number: int) -> Callable[[], bool]:
    def check() -> bool:
        frame = source.latest()
        return frame is not None and frame.number == number

    return check


def test_a_file_live_follows_the_clock(numbered_file: Path) -> None:
    clock = FakeClock(10.0)
    source = open_source(str(numbered_file), clock)
    assert isinstance(source, FileSource)
    with source:
        for now in (10.0, 10.5, 11.0, 11.6, 13.0):  # 11.6 and 13.0 are past the loop
            clock.set(now)
            due = math.floor((now - 10.0) * FPS + 1e-6)
            assert wait_for(latest_is(source, due)), (now, source.latest())
            frame = source.latest()
            assert frame is not None
            assert (frame.index, number_in(frame.image)) == (due % 45, due % 45)
            assert frame.time == pytest.approx(10.0 + due / FPS)
        assert source.dropped >= 90 - 5  # frames the clock jumped over were never shown
        assert not frame.image.flags.writeable


def test_a_file_live_on_a_real_clock_is_on_time(numbered_file: Path) -> None:
    clock = MonotonicClock()
    with open_source(str(numbered_file), clock) as source:
        time.sleep(0.4)
        frame, now = source.latest(), clock.now()
    assert frame is not None
    due = math.floor((now - frame.time + frame.number / FPS) * FPS)
    assert due - frame.number <= 2  # at most two frames late on a loaded 2-core machine


def test_an_undecodable_file_fails_at_start_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(VideoSourceError, match=r"cannot decode .*broken\.mp4") as error:
        open_source(str(broken), FakeClock()).start()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "spec, says",
    [
        ("webcam", "is not one of: a video file, camera"),
        ("nothing-here.mp4", "no such file"),
        ("ndi:", "needs a name"),
        ("ffmpeg:testsrc?format", "expected key=value"),
    ],
)
def test_a_bad_spec_gives_one_line_naming_what_is_accepted(spec: str, says: str) -> None:
    with pytest.raises(VideoSourceError, match=says) as error:
        open_source(spec, FakeClock())
    assert "\n" not in str(error.value)


def test_specs_split_their_options_at_the_last_question_mark() -> None:
    lavfi = parse_source("ffmpeg:testsrc2=size=320x240:rate=30?format=lavfi")
    assert (lavfi.kind, lavfi.target, lavfi.options) == (
        "ffmpeg",
        "testsrc2=size=320x240:rate=30",
        {"format": "lavfi"},
    )
    rtsp = parse_source("ffmpeg:rtsp://cam/live?token=1?")
    assert (rtsp.target, rtsp.options) == ("rtsp://cam/live?token=1", {})
    assert parse_source("camera").kind == "camera"
    assert parse_source("camera:2").target == "2"


def test_lavfi_runs_through_the_cameras_code_path() -> None:
    spec = "ffmpeg:testsrc2=size=320x240:rate=30,realtime?format=lavfi"
    source = open_source(spec, MonotonicClock())
    assert type(source) is FFmpegSource
    assert type(open_source("camera", FakeClock())) is FFmpegSource
    with source:
        assert wait_for(lambda: source.delivered >= 6)
        frame = source.latest()
    assert frame is not None and frame.image.shape == (240, 320, 3)
    assert source.delivered <= 30  # paced at 30 fps by ,realtime, not decoded flat out


def test_a_missing_camera_fails_at_start_in_one_line() -> None:
    with pytest.raises(VideoSourceError, match="cannot open camera:/dev/video77") as error:
        open_source("camera:/dev/video77", FakeClock()).start()
    assert "\n" not in str(error.value)


@pytest.mark.display
@pytest.mark.slow
def test_a_screen_under_xvfb(display: str) -> None:
    for spec in (f"screen:{display}.0+0,0?video_size=320x240", "screen:200x100+10+20"):
        with open_source(spec, MonotonicClock()) as source:
            assert wait_for(lambda s=source: s.latest() is not None)
            frame = source.latest()
        assert frame is not None
        assert frame.image.shape in ((240, 320, 3), (100, 200, 3))


@pytest.mark.slow
def test_a_file_that_vanishes_holds_its_frame_and_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_numbered(tmp_path / "short.mkv", 6)
    kept = path.read_bytes()
    clock = FakeClock()
    source = open_source(str(path), clock)
    assert isinstance(source, FileSource)
    with source, caplog.at_level(logging.WARNING):
        clock.set(4 / FPS)
        assert wait_for(latest_is(source, 4))
        path.unlink()
        clock.set(7 / FPS)  # past the loop: the file is opened again, and is gone
        assert wait_for(lambda: source.lost)
        held = source.latest()
        clock.advance(1.0)
        time.sleep(0.6)  # retries, silently
        assert source.latest() is held and held is not None and held.number == 4
        lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
        assert len(lost) == 1 and "holding its last frame" in lost[0]
        path.write_bytes(kept)
        assert wait_for(lambda: not source.lost, timeout=6)
        clock.advance(1 / FPS)
        assert wait_for(lambda: source.latest() is not held)


def test_the_handoff_keeps_only_the_newest_and_counts_the_rest() -> None:
    slot = NewestFrame()
    image = numbered(0)
    assert slot.peek() is None
    for n in range(5):
        slot.put(InputFrame(image.copy(), n, n, n / FPS))
    newest = slot.peek()
    assert newest is not None and newest.number == 4
    assert (slot.dropped, slot.delivered) == (4, 5)
    slot.put(InputFrame(image.copy(), 5, 5, 5 / FPS))
    assert slot.dropped == 4  # frame 4 was seen, so it was not dropped
