"""Audio input for real, through a private JACK server on the dummy driver.

The test plays a click train out of the same process through JACK into the
instrument's input port, and checks what comes out of the inbox and the clock.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import av
import numpy as np
import pytest
from performer.control.analysis import Analyzer
from performer.control.audio import (
    AudioInput,
    AudioUnavailable,
    find_device,
    load_sounddevice,
)
from performer.control.audio_clock import AudioClock
from performer.control.events import Inbox
from performer.control.jack import (
    PERIOD,
    RATE,
    ClickTrain,
    connect,
    dummy_server,
    missing,
    start_server,
)
from performer.control.ring import SampleRing

from performer import patch
from performer.generators.diffusion import DiffusersGenerator
from performer.inputs import InputOptions, Inputs
from performer.live import Stage, play
from performer.session import Session
from performer.take import read_log
from tests.helpers import video_seconds


def _reinitialise(sd: ModuleType) -> None:
    """PortAudio reads the JACK server name when it initialises: make it read it again."""
    sd._terminate()
    sd._initialize()


@pytest.fixture
def jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A private JACK server (dummy driver, 48 kHz, 256 frames) and sounddevice on it."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    try:
        sd = load_sounddevice()
    except AudioUnavailable as exc:
        pytest.skip(str(exc))
    name = f"performer-audio-{os.getpid()}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    try:
        with dummy_server(name, RATE, PERIOD):
            _reinitialise(sd)
            try:
                yield sd
            finally:
                sd._terminate()  # before the server goes, as PortAudio expects
    finally:
        monkeypatch.delenv("JACK_DEFAULT_SERVER")
        sd._initialize()


@pytest.mark.slow
def test_click_train_through_jack_gives_onsets_beat_and_a_running_clock(jack: ModuleType) -> None:
    inbox = Inbox()
    audio = AudioInput("system", (1,), inbox, samplerate=RATE, blocksize=PERIOD)
    clicks = ClickTrain(jack, bpm=120)
    audio.start()
    try:
        connect("PortAudio:out_0", "PortAudio:in_0")  # ports exist once streams are open
        clicks.stream.start()  # so the tone and the first click start together
        perf0, clock0 = time.perf_counter(), audio.clock.now()
        events = []
        deadline = perf0 + 4.5
        while time.perf_counter() < deadline:
            time.sleep(0.05)
            events += inbox.drain()
        perf1, clock1 = time.perf_counter(), audio.clock.now()
        assert audio.clock.following_audio
    finally:
        clicks.stream.stop()
        clicks.stream.close()
        audio.stop()
        audio.stop()  # twice is fine
    onsets = np.array([e.time for e in events if e.source == "audio:onset"])
    # On the click grid (the first onset is the first click), within two hops.
    grid = onsets[0] + 0.5 * np.round((onsets - onsets[0]) / 0.5)
    on_grid = np.abs(onsets - grid) <= 2 * 512 / RATE
    assert 7 <= on_grid.sum() <= 10, onsets  # 9 clicks in 4.5 s, give or take the edges
    assert len(np.unique(grid[on_grid])) == on_grid.sum()  # one onset per click
    # A glitch from a starved jackd on a loaded machine may add one, and each input
    # overflow (lost input stood in for by silence) may add one; not more.
    assert (~on_grid).sum() <= 1 + audio.overflows, (onsets, audio.overflows)
    levels = [e.value for e in events if e.source == "audio:rms"]
    assert min(levels[5:]) > 0.03 and max(levels) < 0.5  # the tone, and clicks now and then
    assert [e.value for e in events if e.source == "audio:mid"][-1] > 0.2  # 1 kHz is mid
    bpms = [e.value for e in events if e.source == "audio:bpm"]
    assert bpms and abs(bpms[-1] - 120) < 2, bpms
    # The clock follows the device, which the dummy driver paces in real time.
    assert (clock1 - clock0) / (perf1 - perf0) == pytest.approx(1.0, abs=0.05)
    # Events carry when the sound happened: an onset comes a hop or two after it, so
    # across drains it may be older than levels already drained; never by much.
    latest = np.maximum.accumulate([e.time for e in events])
    assert max(latest - [e.time for e in events]) < 0.1
    # (PortAudio may flag an overflow when this busy machine starves jackd: not asserted.)
    assert audio._ring is not None and audio._ring.lost == 0


@pytest.mark.slow
def test_passthrough_carries_the_input_to_an_output(jack: ModuleType) -> None:
    inbox = Inbox()
    audio = AudioInput("system", (1,), inbox, passthrough="system", samplerate=RATE)
    heard = []

    def listen(indata: Any, frames: int, _time: Any, _status: Any) -> None:
        heard.append(float(np.abs(indata).max()))

    clicks = ClickTrain(jack, bpm=240)
    audio.start()
    clicks.stream.start()
    # A second input stream is a second set of ports on the same "PortAudio" client.
    listener = jack.InputStream(device="system", channels=1, samplerate=RATE, callback=listen)
    listener.start()
    try:
        ports = subprocess.run(["jack_lsp"], capture_output=True, text=True, check=True)
        names = [p for p in ports.stdout.split() if p.startswith("PortAudio:")]
        # Ports in order of opening: ours in_0 (passthrough out_0, out_1), clicks, listener.
        ins = [p for p in names if ":in_" in p]
        outs = [p for p in names if ":out_" in p]
        connect(outs[-1], ins[0])  # clicks → instrument
        connect(outs[0], ins[-1])  # instrument's passthrough → listener
        time.sleep(1.0)
    finally:
        listener.stop()
        listener.close()
        clicks.stream.stop()
        clicks.stream.close()
        audio.stop()
    assert max(heard) == pytest.approx(0.8, abs=0.05)


@pytest.mark.slow
def test_a_stalled_stream_is_reported_and_the_clock_runs_on(
    jack: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    audio = AudioInput("system", None, Inbox(), samplerate=RATE)
    audio.start()
    try:
        deadline = time.perf_counter() + 2.0
        while not audio.clock.following_audio and time.perf_counter() < deadline:
            time.sleep(0.02)
        assert audio.clock.following_audio
        audio._stream.abort()  # the device goes away under us
        time.sleep(0.8)
        assert not audio.clock.following_audio
        before, perf = audio.clock.now(), time.perf_counter()
        time.sleep(0.1)
        rate = (audio.clock.now() - before) / (time.perf_counter() - perf)
        assert rate == pytest.approx(1.0, abs=0.05)
    finally:
        audio.stop()
    assert "stalled; the clock runs on monotonic time" in caplog.text


@pytest.mark.slow
def test_the_show_outlives_its_jack_server(tmp_path: Path) -> None:
    """The JACK server dies mid-show: the stall is reported, the show plays to its end,
    the take keeps its pictures and the audio it heard, and the instrument exits (it
    hung in PortAudio's stop and again at exit, waiting on the dead server)."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    name = f"performer-doomed-{os.getpid()}"
    server = start_server(name, RATE, PERIOD)
    try:
        player = subprocess.Popen(
            [
                *(sys.executable, "-m", "performer.cli", "play", "--headless", "--seconds", "5"),
                *(
                    "--audio-in",
                    "system",
                    "--no-osc",
                    "--no-midi-virtual",
                    "--takes",
                    str(tmp_path),
                ),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"},
        )
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob("*/video.mp4")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(tmp_path.glob("*/video.mp4")), "the take did not start"
        time.sleep(2.0)  # pictures and sound into the take
    finally:
        server.terminate()  # the server goes
        server.wait(timeout=10)
    try:
        _, err = player.communicate(timeout=60)
    finally:
        player.kill()
    assert player.returncode == 0, err[-2000:]
    assert "stalled; the clock runs on monotonic time" in err and "take saved" in err, err
    (take,) = tmp_path.iterdir()
    with av.open(str(take / "video.mp4")) as container:
        heard = float(container.streams.audio[0].duration * container.streams.audio[0].time_base)
    assert video_seconds(take / "video.mp4") >= 4.5
    assert heard >= 1.0, f"the take kept {heard:.2f} s of audio"


@pytest.mark.slow
def test_a_missing_device_names_the_ones_there_are(jack: ModuleType) -> None:
    audio = AudioInput("no such card", None, Inbox())
    with pytest.raises(
        AudioUnavailable, match=r"no input device named like 'no such card'.*system"
    ):
        audio.start()
    assert not audio.running
    with pytest.raises(AudioUnavailable, match="no input device with index 7"):
        find_device(jack, 7, "input")
    with pytest.raises(AudioUnavailable, match="has 2 input channels; asked for"):
        AudioInput("system", (3, 4), Inbox()).start()


def test_no_portaudio_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    with pytest.raises(AudioUnavailable, match="sounddevice package is not installed"):
        AudioInput(None, None, Inbox()).start()


def test_the_instrument_goes_on_without_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring the session does: try audio; on failure the same clock stays monotonic."""
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    clock = AudioClock()
    audio = AudioInput(None, None, Inbox(), clock=clock)
    with pytest.raises(AudioUnavailable):
        audio.start()
    before = clock.now()
    time.sleep(0.02)
    assert clock.now() - before == pytest.approx(0.02, abs=0.015)
    assert not clock.following_audio
    audio.stop()  # never started: nothing to do


def test_channels_are_numbered_from_one() -> None:
    with pytest.raises(ValueError, match="numbered from 1"):
        AudioInput(None, (0, 1), Inbox())


def test_ring_keeps_order_across_the_wrap_and_skips_when_lapped() -> None:
    ring = SampleRing(frames=10, channels=2)
    block = np.arange(12, dtype=np.float32).reshape(6, 2)  # columns 0, 1
    out = np.zeros((4, 2), dtype=np.float32)
    ring.write(block, (1, 0))  # swap the columns on the way in
    assert ring.read_into(out) == 0
    assert out[:, 0].tolist() == [1, 3, 5, 7]
    ring.write(block, (1, 0))  # wraps: frames 6..11 land at 6..9 and 0..1
    assert ring.read_into(out) == 4
    assert ring.read_into(out) == 8
    assert out[:, 1].tolist() == [4, 6, 8, 10]
    assert ring.read_into(out) is None  # nothing left
    for _ in range(4):
        ring.write(block, (0, 1))  # 24 frames: the reader has been lapped
    assert ring.read_into(out) is not None
    assert ring.lost > 0


def test_lost_input_is_stood_in_for_by_silence_on_the_device_clock() -> None:
    """An overflow whose stream time jumps 3 blocks keeps frame numbers on the device."""
    audio = AudioInput(None, (2,), Inbox())
    audio._ring, audio._columns = SampleRing(48000, 1), (1,)
    audio.analyzer = Analyzer(RATE)
    block = np.ones((PERIOD, 2), dtype=np.float32)
    step = PERIOD / RATE

    def callback(adc: float, overflow: bool) -> None:
        stream_time = SimpleNamespace(inputBufferAdcTime=adc, currentTime=adc + step)
        audio._callback(block, PERIOD, stream_time, SimpleNamespace(input_overflow=overflow))

    callback(10.0, overflow=True)  # the first block: nothing known to be lost
    callback(10.0 + step, overflow=False)
    callback(10.0 + 5 * step, overflow=True)  # blocks 2, 3 and 4 never came
    assert audio.overflows == 2
    assert audio._ring.written == 6 * PERIOD
    assert audio._ring.data[2 * PERIOD : 5 * PERIOD].max() == 0.0
    assert audio._ring.data[5 * PERIOD : 6 * PERIOD].min() == 1.0
    assert audio._times.records[2].tolist()[1] == 5 * PERIOD  # the block's first frame number
    assert audio._ring.hole == (2 * PERIOD, 5 * PERIOD)  # where no onset is to be heard


def test_lost_input_is_reported_in_one_line_a_second(caplog: pytest.LogCaptureFixture) -> None:
    """Each stretch of stand-in silence counts; the log says so once a second at most."""
    from performer.control.audio_reader import AudioReader
    from performer.control.ring import CaptureTimes

    ring = SampleRing(48000, 1)
    reader = AudioReader(
        ring, CaptureTimes(), Analyzer(RATE), AudioClock(), Inbox(), lambda *_: None, "in", PERIOD
    )
    block = np.zeros((PERIOD, 1), dtype=np.float32)
    for lost in (480, 960, 240):
        ring.write(block, (0,))
        ring.skip(lost)
        reader._analyse()
    said = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert said == [
        "audio input 'in' lost 10.0 ms of input (an xrun); silence stands in (1 so far)"
    ]


def test_ring_single_producer_single_consumer_threads() -> None:
    """A writer thread and a reader: every frame read is the frame written there."""
    ring = SampleRing(frames=1024, channels=1)
    out = np.zeros((64, 1), dtype=np.float32)
    total = 64 * 500

    def produce() -> None:
        for start in range(0, total, 32):
            block = np.arange(start, start + 32, dtype=np.float32)[:, None]
            while ring.written - ring.read > 900:
                time.sleep(0)
            ring.write(block, (0,))

    writer = threading.Thread(target=produce)
    writer.start()
    got = 0
    while got < total:
        first = ring.read_into(out)
        if first is None:
            time.sleep(0)
            continue
        assert out[:, 0].tolist() == list(range(first, first + 64))
        got += 64
    writer.join()
    assert ring.lost == 0


TAKE_PATCH = """
[params]
crossfade = 0.0
[[mappings]]
source = "audio:onset"
param = "seed_travel"
"""


@pytest.mark.slow
def test_a_take_records_the_input_audio_and_its_onsets(
    jack: ModuleType, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """The instrument hears a click train through JACK, the clock follows the card,
    onsets drive a mapping, and the take's video carries the audio."""
    from performer.render.headless import Headless

    inbox = Inbox()
    options = InputOptions(
        osc_port=None, midi_virtual=False, audio_in="system", audio_channels=(1,)
    )
    inputs = Inputs(options, inbox)  # the audio input owns the clock
    session = Session(
        patch.loads(TAKE_PATCH),
        DiffusersGenerator(str(tiny_models["sd"])),
        clock=inputs.clock,
        inbox=inbox,
        overrides={"width": 32, "height": 32},
    )
    session.prepare()
    inputs.start(session)
    audio = inputs.audio
    clicks = ClickTrain(jack, bpm=120)
    try:
        connect("PortAudio:out_0", "PortAudio:in_0")
        clicks.stream.start()
        with Headless(64, 64) as surface:
            stage = Stage(session, surface, fps=20, takes=tmp_path)
            stage.audio = audio
            stage.record(True)
            folder = stage.take.folder
            play(stage, 3.0)
            stage.close()
    finally:
        clicks.stream.stop()
        clicks.stream.close()
        inputs.stop()
        session.close()
    streams = json.loads(
        subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type,sample_rate",
                "-of",
                "json",
                str(folder / "video.mp4"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["streams"]
    assert {s["codec_type"] for s in streams} == {"video", "audio"}
    assert [s["sample_rate"] for s in streams if s["codec_type"] == "audio"] == [str(RATE)]
    log = [json.loads(line) for line in (folder / "control.jsonl").read_text().splitlines()]
    onsets = [r for r in log if r["type"] == "event" and r["source"] == "audio:onset"]
    assert len(onsets) >= 3, "about six clicks in three seconds"
    frames = [r.get("set", r.get("params", {})) for r in log if r["type"] == "frame"]
    assert any(f.get("seed_travel", 0) > 0 for f in frames), "frames log what changed"


#: How far a flash may lie from its click in the take's file. A picture is placed at the
#: display's tick that drew it, so a flash sits up to a frame after the click (the audio
#: delay centres it: within half a frame either side), and a display tick delayed by a
#: busy machine puts it on the next picture: a frame later again. Measured on the 2-core
#: machine (2026-12, 10 takes beside a CPU hog, load average 3.5): the worst flash of the
#: takes that heard every click was 46.7 ms after it, and one beside two hogs 53.2 ms
#: (the failure once seen: 51 ms); quiet, 17.6 ms.
LATE_TICK = 2.0  # frames: the picture after the click, or the one after it
#: The earliest flash of a take has no late tick: it sits within half a frame of its
#: click, plus the audio blocks' jitter (measured above: at most 16.8 ms early). A flash
#: a whole frame late (a regression of the audio delay or of the drawing) puts every
#: flash at least half a frame after its click.
ON_TIME = 0.5  # frames
JITTER = 0.010  # seconds


@pytest.mark.slow
def test_each_flash_sits_within_a_frame_of_its_click(
    jack: ModuleType, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """A/V sync, measured in the take's own file: a click train through JACK, a patch
    that flashes the picture on each onset, 30 fps; every click that has pictures
    around it has its flash within a frame of it, or one more when a display tick came
    late (:data:`LATE_TICK`), the earliest within half a frame (:data:`ON_TIME`), and
    no flash is without a click. The take replayed offline keeps them so."""
    from bench.av_offset import flash_and_click_times, offsets, play_click_take
    from performer.replay import replay

    fps = 30
    folder = play_click_take(jack, tiny_models["sd"], 100.0, 4.0, fps, tmp_path, tone=0.0)
    log = list(read_log(folder / "control.jsonl"))
    heard = [round(r["t"] - log[0]["t"], 3) for r in log if r.get("source") == "audio:onset"]
    replay(folder, DiffusersGenerator(str(tiny_models["sd"])), tmp_path / "replay.mp4", {})
    for video in (folder / "video.mp4", tmp_path / "replay.mp4"):
        flashes, clicks = flash_and_click_times(video)
        inside = [c for c in clicks if 0.3 < c < 3.7]  # pictures on both sides of it
        assert len(inside) >= 5, f"{video.name}: clicks heard: {clicks}"
        found = [min(flashes, key=lambda f: abs(f - c), default=math.inf) - c for c in inside]
        said = (
            f"{video.name}: flash - click (ms) {[round(1000 * float(o), 1) for o in found]}; "
            f"clicks {[round(float(c), 3) for c in inside]}; onsets {heard}"
        )
        assert all(abs(o) <= LATE_TICK / fps for o in found), said
        assert min(found) <= ON_TIME / fps + JITTER, f"every flash late: {said}"
        # A click a moment before the take began can still flash its first pictures.
        shown = [f for f in flashes if 0.3 < f < 3.7]
        late = [round(1000 * o) for o in offsets(shown, clicks) if abs(o) > LATE_TICK / fps]
        assert not late, f"{video.name}: flashes away from any click (ms): {late}"
