"""The analyser on synthetic signals: click trains, sines, silence."""

from __future__ import annotations

import numpy as np
import pytest
from performer.control.analysis import DISCRETE_SOURCES, Analyzer
from performer.control.events import Event

RATE = 48000
HOP = 512


def click_train(bpm: float, seconds: float, start: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Short bursts of full-band noise on each beat; the signal and the click times."""
    signal = np.zeros(int(seconds * RATE))
    times = np.arange(start, seconds, 60.0 / bpm)
    burst = 0.8 * np.hanning(48) * np.sign(np.sin(np.arange(48.0)))
    for t in times:
        i = round(t * RATE)
        signal[i : i + 48] += burst[: len(signal) - i]
    return signal, times


def analyse(signal: np.ndarray, block: int = 1000) -> tuple[Analyzer, list[Event]]:
    """Feed it in blocks that do not line up with the hop, as a sound card would."""
    analyzer = Analyzer(RATE, HOP)
    events: list[Event] = []
    for i in range(0, len(signal), block):
        events += analyzer.process(signal[i : i + block], i / RATE)
    return analyzer, events


def last_values(events: list[Event]) -> dict[str, float]:
    return {e.source: e.value for e in events}


def sine(hz: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 174.0])
def test_click_train_onsets_at_the_clicks_and_its_tempo(bpm: float) -> None:
    signal, clicks = click_train(bpm, 8.0)
    analyzer, events = analyse(signal)
    onsets = np.array([e.time for e in events if e.source == "audio:onset"])
    assert len(onsets) == len(clicks)
    assert np.abs(onsets - clicks).max() <= HOP / RATE  # ± one hop
    assert analyzer.bpm == pytest.approx(bpm, abs=2.0)
    assert [e.value for e in events if e.source == "audio:bpm"][-1] == analyzer.bpm


def test_beats_fall_on_the_clicks_with_phase_between() -> None:
    signal, clicks = click_train(120.0, 8.0)
    _, events = analyse(signal)
    beats = np.array([e.time for e in events if e.source == "audio:beat"])
    assert len(beats) >= 8  # from the first tempo estimate (3 s) on
    assert np.allclose(np.diff(beats), 0.5, atol=0.01)
    nearest = np.abs(beats[:, None] - clicks[None, :]).min(axis=1)
    assert nearest.max() <= HOP / RATE
    phases = [e.value for e in events if e.source == "audio:phase"]
    assert min(phases) >= 0.0 and max(phases) < 1.0 and max(phases) > 0.9


def test_events_in_time_order_with_discrete_ones_marked() -> None:
    signal, _ = click_train(120.0, 4.0)
    _, events = analyse(signal)
    times = [e.time for e in events if e.source not in DISCRETE_SOURCES]
    assert times == sorted(times)
    assert {e.source for e in events} == {
        "audio:rms",
        "audio:low",
        "audio:mid",
        "audio:high",
        "audio:onset",
        "audio:hit",
        "audio:beat",
        "audio:phase",
        "audio:bpm",
    }


@pytest.mark.parametrize(("hz", "band"), [(60.0, "low"), (1000.0, "mid"), (8000.0, "high")])
def test_a_sine_lights_its_band(hz: float, band: str) -> None:
    _, events = analyse(sine(hz))
    levels = last_values(events)
    assert levels[f"audio:{band}"] == pytest.approx(1.0, abs=0.05)
    others = [levels[f"audio:{b}"] for b in ("low", "mid", "high") if b != band]
    assert max(others) < 0.2
    # Over one hop (10.7 ms, under a cycle of 60 Hz) the RMS of a sine wobbles a little.
    assert levels["audio:rms"] == pytest.approx(0.5 / np.sqrt(2), abs=0.04)


def test_silence_is_zero_and_quiet() -> None:
    _, events = analyse(np.zeros(RATE * 4))
    assert all(e.value == 0.0 for e in events if e.source != "audio:phase")
    sources = {e.source for e in events}
    assert not sources & {"audio:onset", "audio:beat", "audio:bpm"}


def test_auto_gain_brings_a_quiet_passage_back_up_slowly() -> None:
    loud, quiet = sine(1000.0, 1.0, 0.5), sine(1000.0, 20.0, 0.05)
    analyzer = Analyzer(RATE, HOP, gain_seconds=5.0)
    analyzer.process(loud, 0.0)
    settle = 4 * HOP  # the window fills with the quiet passage
    after_drop = last_values(analyzer.process(quiet[:settle], 1.0))["audio:mid"]
    later = last_values(analyzer.process(quiet[settle:], 1.0 + settle / RATE))["audio:mid"]
    assert after_drop == pytest.approx(0.1, abs=0.02)  # 20 dB down reads as 0.1
    assert later == pytest.approx(1.0, abs=0.05)  # 10 dB per 5 s: back up after 10 s


def test_blocks_may_be_stereo_and_any_size() -> None:
    signal, _ = click_train(120.0, 2.0)
    stereo = np.stack([signal, signal], axis=1)
    _, mono_events = analyse(signal, block=HOP)
    _, stereo_events = analyse(stereo, block=77)
    assert [e.source for e in mono_events] == [e.source for e in stereo_events]
    assert [e.time for e in mono_events] == pytest.approx([e.time for e in stereo_events])
    assert [e.value for e in mono_events] == pytest.approx([e.value for e in stereo_events])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Analyzer(0)
    with pytest.raises(ValueError, match="frames × channels"):
        Analyzer(RATE).process(np.zeros((2, 2, 2)), 0.0)


def test_steady_noise_gives_almost_no_onsets() -> None:
    noise = 0.1 * np.random.default_rng(0).standard_normal(RATE * 4)
    _, events = analyse(noise)
    onsets = [e.time for e in events if e.source == "audio:onset"]
    assert onsets[0] < 0.05  # the noise starting is one
    assert len(onsets) <= 5  # and the rest is chance, rarely


def test_the_beat_falls_on_the_kick_not_the_hi_hat() -> None:
    """Hi-hats on the off-beats rise more across the spectrum than the kicks do."""
    period = 60.0 / 128
    seconds = 8.0
    signal = np.zeros(int(seconds * RATE))
    kicks = np.arange(0.2, seconds - 0.5, period)
    t = np.arange(int(0.2 * RATE)) / RATE
    kick = 0.6 * np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.1)
    hat = 0.2 * np.diff(np.random.default_rng(2).standard_normal(int(0.04 * RATE)), prepend=0)
    for k in kicks:
        i, j = round(k * RATE), round((k + period / 2) * RATE)
        signal[i : i + len(kick)] += kick
        signal[j : j + len(hat)] += hat
    analyzer, events = analyse(signal)
    beats = np.array([e.time for e in events if e.source == "audio:beat"])
    beats = beats[beats < kicks[-1] + period / 2]  # it may run on for a beat or two after
    assert analyzer.bpm == pytest.approx(128, abs=2)
    assert len(beats) >= 8
    assert np.abs(beats[:, None] - kicks[None, :]).min(axis=1).max() < 0.02


def test_beats_stop_soon_after_the_music_does() -> None:
    signal, clicks = click_train(120.0, 6.0)
    _, events = analyse(np.concatenate([signal, np.zeros(RATE * 6)]))
    beats = [e.time for e in events if e.source == "audio:beat"]
    assert max(beats) <= clicks[-1] + 2.5 * 0.5 + 0.02


def test_hit_jumps_at_an_onset_and_falls_away() -> None:
    analyzer = Analyzer(RATE, hop=HOP)
    signal = np.zeros(RATE, dtype=np.float32)
    signal[RATE // 2 : RATE // 2 + 48] = 0.8  # one click at 0.5 s
    events = analyzer.process(signal, 0.0)
    hits = [(e.time, e.value) for e in events if e.source == "audio:hit"]
    (onset,) = [e.time for e in events if e.source == "audio:onset"]
    peak_time, peak = max(hits, key=lambda h: h[1])
    assert peak > 0.8 and 0 <= peak_time - onset < 0.05
    assert [v for t, v in hits if t < onset] == [0.0] * len([t for t, _ in hits if t < onset])
    assert hits[-1][1] < 0.05, "gone well within half a second"


def test_sound_coming_back_after_lost_input_is_no_onset() -> None:
    """A tone with 30 ms of stand-in silence (input the card lost): the tone's return
    is an onset only when the analyser is not told where input resumed."""
    signal = sine(440.0, 2.0, 0.2)
    signal[48000:49440] = 0.0  # lost at 1.0 s, back at 1.03 s
    _, heard = analyse(signal)
    assert [e for e in heard if e.source == "audio:onset" and 0.95 < e.time < 1.1]
    analyzer = Analyzer(RATE, HOP)
    events: list[Event] = []
    for i in range(0, len(signal), 1000):
        if i == 48000:  # the block where input was lost and came back
            analyzer.ignore_onsets(48000 / RATE, 49440 / RATE)
        events += analyzer.process(signal[i : i + 1000], i / RATE)
    assert [e.time for e in events if e.source == "audio:onset" and e.time > 0.5] == []
