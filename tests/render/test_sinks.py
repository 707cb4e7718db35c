"""Video sinks for real: NDI out → NDI in on loopback (in a private network namespace),
the virtual camera where a loopback device exists, and a failing sink that the show
survives."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from performer.render.sinks import VideoSink, VideoSinkError, open_sink

from tests.helpers import in_private_network, needs_private_network

NUMBERS = "from performer.control.video.testcard import number_in, numbered\n"

NDI_LOOPBACK = """
import json, os, time
from performer.control.clock import MonotonicClock
from performer.control.video import list_devices, open_source
from performer.render.sinks import open_sink

def wait_for(check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        time.sleep(0.005)
    return check()

def play(sink, source, first, count):
    seen = []
    for n in range(first, first + count):
        sink.send(numbered(n), clock.now())
        time.sleep(1 / 30)
        frame = source.latest()
        if frame is not None:
            seen.append(number_in(frame.image))
    return seen

clock = MonotonicClock()
sink = open_sink("ndi:performer loopback", fps=30)
sink.start(160, 96)
listed = {d.kind: d.names for d in list_devices(ndi_timeout=1.0)}["ndi"]
source = open_source("ndi:LOOPBACK", clock)
source.start()
first = play(sink, source, 0, 45)
sink.stop()
went = wait_for(lambda: source.lost, 5)
held = number_in(source.latest().image)
sink = open_sink("ndi:performer loopback", fps=30)
sink.start(160, 96)
back = wait_for(lambda: not source.lost, 10)
second = play(sink, source, 100, 45)
sink.stop(); sink.stop()
source.stop(); source.stop()
print(json.dumps(dict(listed=listed, first=first, went=went, held=held, back=back,
                      second=second, dropped=source.dropped)))
"""


@pytest.mark.slow
@needs_private_network
def test_ndi_out_to_ndi_in_on_loopback_and_back_after_the_sender_restarts(
    tmp_path: Path,
) -> None:
    pytest.importorskip("cyndilib")
    config = {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}
    (tmp_path / "ndi-config.v1.json").write_text(json.dumps(config))
    script = f"import os; os.environ['NDI_CONFIG_DIR'] = {str(tmp_path)!r}\n"
    script += NUMBERS + textwrap.dedent(NDI_LOOPBACK)
    run = in_private_network(script, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert any("performer loopback" in name for name in result["listed"])
    first = [n for n in result["first"] if n < 45]
    assert len(set(first)) >= 20  # most of the 45 frames arrived, each as itself
    assert first == sorted(first) and max(first) >= 40
    assert result["went"] and result["held"] >= 40  # the last frame is held
    assert result["back"]  # a new sender of that name: the receiver reconnected
    second = [n for n in result["second"] if n >= 100]
    assert len(set(second)) >= 20 and max(second) >= 140


def test_the_virtual_camera_sends_or_says_why_not() -> None:
    pytest.importorskip("pyvirtualcam")
    sink = open_sink("vcam")
    try:
        sink.start(160, 96)
    except VideoSinkError as error:
        assert "\n" not in str(error) and str(error).startswith("vcam: ")
        pytest.skip(str(error))
    try:
        for n in range(10):
            sink.send(np.full((96, 160, 3), n, np.uint8), n / 30)
            time.sleep(1 / 30)
        assert sink.sent >= 1
    finally:
        sink.stop()


@pytest.mark.parametrize("spec, says", [("hdmi", "is not one of: ndi:NAME"), ("ndi:", "needs")])
def test_a_bad_sink_spec_gives_one_line(spec: str, says: str) -> None:
    with pytest.raises(VideoSinkError, match=says):
        open_sink(spec)


class PipeSink(VideoSink):
    """Raw RGB frames into a named pipe: a real output that breaks when its reader goes."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"pipe:{path}")
        self.path = path
        self._fd = -1

    def _open(self, width: int, height: int) -> None:
        try:  # with no reader, a non-blocking open fails (ENXIO), as a gone device does
            self._fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            raise VideoSinkError(str(error)) from None

    def _send(self, frame: np.ndarray) -> None:
        time.sleep(0.02)  # slower than the show: the handoff must drop, not queue
        try:
            os.write(self._fd, frame.tobytes())
        except OSError as error:
            raise VideoSinkError(str(error)) from None

    def _close(self) -> None:
        os.close(self._fd)


def test_a_sink_never_holds_the_show_and_reports_failure_in_few_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pipe = tmp_path / "frames"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    sink = PipeSink(pipe)
    sink.start(16, 8)
    frame = np.zeros((8, 16, 3), np.uint8)
    took = []
    with caplog.at_level(logging.WARNING):
        for n in range(40):
            start = time.perf_counter()
            sink.send(frame, n / 60)
            took.append(time.perf_counter() - start)
            time.sleep(0.005)
            with contextlib.suppress(BlockingIOError):
                os.read(reader, 1 << 16)
        os.close(reader)  # the reader goes: writes break, reopening fails
        for n in range(30):
            start = time.perf_counter()
            sink.send(frame, n / 60)
            took.append(time.perf_counter() - start)
            time.sleep(0.01)
    sink.stop()
    sink.stop()
    assert max(took) < 0.005  # send() only swaps the newest frame in
    assert 1 <= sink.sent < 40 and sink.dropped >= 10
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert sink.failures >= 1 and len(failed) == 1, failed  # one line, not one a frame
