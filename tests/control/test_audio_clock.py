"""The audio clock on fake monotonic time: following, drift, jitter, falling back."""

from __future__ import annotations

import numpy as np
import pytest
from performer.control.audio_clock import AudioClock
from performer.control.clock import FakeClock

RATE = 48000
BLOCK = 256


class FakePerf:
    def __init__(self, start: float = 100.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def run_audio(
    clock: AudioClock, perf: FakePerf, seconds: float, drift: float = 0.0, jitter: float = 0.0
) -> np.ndarray:
    """Callbacks every block for ``seconds`` of a device running ``drift`` fast; the clock
    is refitted every 0.1 s and read after every callback: (monotonic time, reading) rows."""
    rng = np.random.default_rng(1)
    frames, readings = 0, []
    next_fit = perf.t
    start = perf.t
    while perf.t < start + seconds:
        perf.t += BLOCK / RATE / (1 + drift)
        captured = perf.t - BLOCK / RATE / (1 + drift)
        clock.observe(captured + rng.uniform(0, jitter), frames)
        frames += BLOCK
        if perf.t >= next_fit:
            clock.update()
            next_fit += 0.1
        readings.append((perf.t, clock.now()))
    return np.array(readings)


def test_before_audio_it_is_the_fallback() -> None:
    fallback = FakeClock(3.0)
    clock = AudioClock(fallback)
    assert clock.now() == 3.0
    fallback.advance(1.0)
    assert clock.now() == 4.0
    assert not clock.following_audio


def test_it_takes_over_where_the_fallback_was_and_follows_the_device() -> None:
    perf, fallback = FakePerf(), FakeClock(10.0)
    clock = AudioClock(fallback, perf=perf)
    clock.attach(RATE)
    readings = run_audio(clock, perf, 20.0, drift=200e-6)  # a crystal 200 ppm fast
    assert readings[0, 1] == pytest.approx(10.0, abs=0.01)
    assert np.all(np.diff(readings[:, 1]) >= 0)
    # Over the last 15 s, 15 s of monotonic time were 15.003 s of audio: it tells audio time.
    perf_span, clock_span = readings[-1] - readings[-round(15 * RATE / BLOCK)]
    assert clock_span / perf_span == pytest.approx(1 + 200e-6, abs=20e-6)


def test_callback_jitter_is_smoothed_and_time_never_goes_back() -> None:
    perf = FakePerf()
    clock = AudioClock(FakeClock(), perf=perf)
    clock.attach(RATE)
    readings = run_audio(clock, perf, 6.0, jitter=0.004)
    perf_steps, clock_steps = np.diff(readings, axis=0).T
    assert np.all(clock_steps >= 0)
    # Once fitted (1 s), each 5.3 ms block reads as 5.3 ms, give or take 2 %.
    assert clock_steps[200:] == pytest.approx(perf_steps[200:], rel=0.02)


def test_at_frame_is_when_the_frame_was_captured() -> None:
    perf = FakePerf()
    clock = AudioClock(FakeClock(), perf=perf)
    clock.attach(RATE)
    run_audio(clock, perf, 3.0)
    now = clock.now()
    latest_frame = int(3.0 * RATE) // BLOCK * BLOCK
    # The last block's first frame was captured one block before its callback.
    assert clock.at_frame(latest_frame) == pytest.approx(now - BLOCK / RATE, abs=0.002)
    assert clock.at_frame(latest_frame - RATE) == pytest.approx(now - 1 - BLOCK / RATE, abs=0.002)


def test_a_busy_spell_of_late_callbacks_does_not_move_audio_time() -> None:
    """For a second a third of the callbacks run 5-40 ms late (waiting for the CPU):
    frames are still placed when they were captured, so sound stays where the picture
    expects it."""
    perf = FakePerf()
    clock = AudioClock(FakeClock(), perf=perf)
    clock.attach(RATE)
    run_audio(clock, perf, 3.0)
    rng = np.random.default_rng(2)
    frames = int(3.0 * RATE) // BLOCK * BLOCK + BLOCK
    for _ in range(RATE // BLOCK):  # one second of late callbacks
        perf.t += BLOCK / RATE
        late = rng.uniform(0.005, 0.04) if rng.random() < 0.3 else 0.0
        clock.observe(perf.t - BLOCK / RATE + late, frames)
        frames += BLOCK
        if frames % (BLOCK * 18) == 0:
            clock.update()
    clock.update()
    latest = frames - BLOCK
    assert clock.at_frame(latest) == pytest.approx(clock.now() - BLOCK / RATE, abs=0.002)


def test_after_the_device_stalls_frames_are_placed_when_captured_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The device's time stops for 50 ms (a JACK cycle run late, or input lost and not
    made up) and goes on from where it was: within a quarter of a second the clock places the
    frames when they were captured again, not 50 ms early for the rest of its window."""
    perf = FakePerf()
    clock = AudioClock(FakeClock(), perf=perf)
    clock.attach(RATE)
    run_audio(clock, perf, 3.0)
    frames = int(3.0 * RATE) // BLOCK * BLOCK + BLOCK
    perf.t += 0.05  # the stall: no frames for 50 ms
    for block in range(round(0.25 * RATE / BLOCK)):
        perf.t += BLOCK / RATE
        clock.observe(perf.t - BLOCK / RATE, frames)
        frames += BLOCK
        if block % 18 == 17:
            clock.update()
    clock.update()
    latest = frames - BLOCK
    assert clock.at_frame(latest) == pytest.approx(clock.now() - BLOCK / RATE, abs=0.002)
    said = [r.getMessage() for r in caplog.records if "moved" in r.getMessage()]
    assert len(said) == 1 and "moved -50 ms" in said[0], said


def test_when_audio_stops_it_runs_on_at_the_monotonic_rate() -> None:
    perf = FakePerf()
    clock = AudioClock(FakeClock(), perf=perf)
    clock.attach(RATE)
    run_audio(clock, perf, 2.0, drift=0.005)
    clock.detach()
    assert not clock.following_audio
    before = clock.now()
    perf.t += 1.0
    assert clock.now() == pytest.approx(before + 1.0)
    # Audio again: a new stream counts frames from zero; the clock carries on.
    clock.attach(RATE)
    run_audio(clock, perf, 1.0)
    assert clock.following_audio
    assert clock.now() == pytest.approx(before + 2.0, abs=0.01)


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="sample rate"):
        AudioClock().attach(0)
