"""Audio analysis: level, three bands, onsets and the beat, from blocks of samples.

Pure numpy — no device, no thread — so it runs the same on a live stream, a file, or a
test's synthetic click train. :meth:`Analyzer.process` takes samples and the
performance-clock time of the first one, and returns events:

==================  ====================================================================
``audio:rms``       level of the last hop, linear 0..1 (a full-scale sine reads 0.707)
``audio:low``       energy 20–250 Hz, 0..1 after a slow auto-gain (1 = loudest lately)
``audio:mid``       energy 250 Hz–4 kHz, 0..1, same auto-gain
``audio:high``      energy 4–16 kHz, 0..1, same auto-gain
``audio:onset``     1.0 at each onset (spectral flux over an adaptive threshold); discrete
``audio:hit``       an envelope: 1.0 at each onset, falling away in ~0.1 s (a strobe, a flash)
``audio:beat``      1.0 on each beat of the tracked tempo; discrete
``audio:phase``     where the last hop sits between two beats, 0..1 (0 = on the beat)
``audio:bpm``       the tracked tempo in beats per minute (60–200), *not* normalised
==================  ====================================================================

Onsets and beats are discrete (one event each); the rest are continuous and coalesce in
the :class:`~performer.control.events.Inbox`. Events carry the time the sound happened, not the
time it was analysed: onsets are compensated for the analysis window's delay.

Why numpy and not a library: see ``docs/audio.md`` (measured against librosa).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from performer.control.events import Event

Samples = npt.NDArray[np.floating]

_HIT_DECAY_S = 0.1  # audio:hit falls to 37% in this long after an onset
DISCRETE_SOURCES = frozenset({"audio:onset", "audio:beat"})
BANDS_HZ = {"low": (20.0, 250.0), "mid": (250.0, 4000.0), "high": (4000.0, 16000.0)}

_SILENCE_POWER = 1e-7  # band power (mean square) below about -70 dBFS counts as nothing
_BAND_SPAN = 1e-3  # a band's auto-gain never climbs above 30 dB under the loudest band
_MEL_BANDS = 40
_LOW_BEAT_HZ = 300.0  # the kick and the bass: what a dance floor calls the beat
_LOG_GAMMA = 100.0  # log compression of magnitudes for the flux (as in librosa/madmom)
_ONSET_DELTA = 0.02  # flux (mean log-magnitude rise per bin) that is always too little
_ONSET_RATIO = 2.0  # … or twice the recent mean flux
_ONSET_SPREAD = 4.0  # … or this many standard deviations over it (steady noise)
_ONSET_GAP_S = 0.06  # at most one onset per 60 ms (a 16th at 250 BPM)
_TEMPO_EVERY_S = 0.25  # re-estimate the tempo this often
_TEMPO_MIN_S = 3.0  # of onset envelope before the first estimate
_TEMPO_CONFIDENCE = 0.1  # normalised autocorrelation at the chosen period, at least
_FLYWHEEL_BEATS = 2.5  # beats go on this long (in beats) after the last onset
_PHASE_MEMORY = 0.7  # weight of each older beat when placing the beat grid
_PRIOR_BPM, _PRIOR_OCTAVES = 120.0, 1.0  # log-normal tempo prior, as librosa's


class Analyzer:
    """Features of a mono (or mixed-down) signal, one set per ``hop`` samples."""

    def __init__(
        self,
        samplerate: int,
        hop: int = 512,
        n_fft: int | None = None,
        gain_seconds: float = 10.0,
        tempo_seconds: float = 6.0,
        bpm_range: tuple[float, float] = (60.0, 200.0),
    ):
        if samplerate <= 0 or hop <= 0:
            raise ValueError(f"samplerate and hop must be positive (got {samplerate}, {hop})")
        self.samplerate, self.hop = samplerate, hop
        self.n_fft = n_fft or max(2 * hop, 1 << math.ceil(math.log2(samplerate * 0.02)))
        if self.n_fft < hop:
            raise ValueError(f"n_fft ({self.n_fft}) must be at least the hop ({hop})")
        self.fps = samplerate / hop  # analysis frames (hops) per second
        self._window = np.hanning(self.n_fft)
        self._power_scale = 2.0 / (self.n_fft * float(np.sum(self._window**2)))
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / samplerate)
        self._bands = [np.flatnonzero((freqs >= lo) & (freqs < hi)) for lo, hi in BANDS_HZ.values()]
        self._frame = np.zeros(self.n_fft)  # the newest n_fft samples
        self._pending = np.zeros(hop)
        self._filled = 0
        self._hops = 0  # hops analysed so far
        # Auto-gain: each band's recent peak power, falling 10 dB every gain_seconds.
        self._peaks = np.zeros(len(self._bands))
        self._gain_decay = 10.0 ** (-1.0 / (gain_seconds * self.fps))
        # Onsets.
        self._mel = _mel_bands(freqs, _MEL_BANDS, min(16000.0, samplerate / 2))
        self._prev_log = np.zeros(len(self._mel))
        self._mel_low = freqs[np.argmax(self._mel, axis=1)] < _LOW_BEAT_HZ
        self._flux_mean = 0.0  # exponential mean of the flux over ~0.5 s
        self._flux_var = 0.0  # … and its variance
        self._flux_alpha = 1.0 / (0.5 * self.fps)
        self._last_onset = -math.inf
        self._quiet = (-math.inf, -math.inf)  # no onsets from hops ending in this span
        # The window puts a sound's energy rise about half a window after it happened.
        self.onset_delay_s = (self.n_fft / 2 - hop / 2) / samplerate
        # Tempo: the onset envelope of the last tempo_seconds, oldest first.
        self._env = np.zeros(round(tempo_seconds * self.fps))
        self._env_low = np.zeros_like(self._env)  # the same, below _LOW_BEAT_HZ only
        self._tempo_every = max(1, round(_TEMPO_EVERY_S * self.fps))
        self._tempo_grid = self._make_tempo_grid(bpm_range)
        self.bpm: float | None = None
        self._period_s = 0.0
        self._next_beat = math.inf
        self._last_beat = -math.inf

    # ------------------------------------------------------------------ public

    def process(self, block: Samples, time: float) -> list[Event]:
        """Analyse ``block`` (frames, or frames × channels) whose first sample sounded at
        ``time``; events for every hop it completes, in time order."""
        samples = np.asarray(block, dtype=np.float64)
        if samples.ndim == 2:
            samples = samples.mean(axis=1)
        elif samples.ndim != 1:
            raise ValueError(f"a block is frames or frames × channels, got shape {block.shape}")
        events: list[Event] = []
        start = 0
        while start < len(samples):
            take = min(self.hop - self._filled, len(samples) - start)
            self._pending[self._filled : self._filled + take] = samples[start : start + take]
            self._filled += take
            start += take
            if self._filled == self.hop:
                self._filled = 0
                end_time = time + start / self.samplerate  # just after the hop's last sample
                events.extend(self._analyse_hop(end_time))
        return events

    def ignore_onsets(self, lost: float, resumed: float) -> None:
        """Input was lost from ``lost`` and came back at ``resumed`` (seconds), with
        silence standing in: its edges are no sound, so no onset is reported while the
        analysis window holds them (until a window and a hop after ``resumed``)."""
        self._quiet = (lost, resumed + (self.n_fft + self.hop) / self.samplerate)

    # ----------------------------------------------------------------- per hop

    def _analyse_hop(self, end: float) -> list[Event]:
        # 1. Slide the window.
        hop = self.hop
        self._frame[:-hop] = self._frame[hop:]
        self._frame[-hop:] = self._pending
        self._hops += 1
        # 2. Level and spectrum.
        rms = math.sqrt(float(np.mean(self._pending**2)))
        spectrum = np.abs(np.fft.rfft(self._frame * self._window))
        power = spectrum**2 * self._power_scale
        events = [Event(end, "audio:rms", min(rms, 1.0))]
        # 3. Bands, auto-gained.
        energy = np.array([power[bins].sum() for bins in self._bands])
        self._peaks = np.maximum(energy, self._peaks * self._gain_decay)
        ceiling = np.maximum(self._peaks, max(_SILENCE_POWER, self._peaks.max() * _BAND_SPAN))
        levels = np.minimum(np.sqrt(energy / ceiling), 1.0)
        events += [
            Event(end, f"audio:{name}", float(v)) for name, v in zip(BANDS_HZ, levels, strict=True)
        ]
        # 4. Onsets: rise of log amplitude in mel bands (so a kick counts as much as a
        # hi-hat, as the ear hears it), over an adaptive threshold.
        log_mag = np.log1p(_LOG_GAMMA * np.sqrt(self._mel @ power))
        rise = np.maximum(log_mag - self._prev_log, 0.0)
        flux = float(np.mean(rise))
        self._prev_log = log_mag
        spread = _ONSET_SPREAD * math.sqrt(self._flux_var)
        threshold = max(_ONSET_DELTA, _ONSET_RATIO * self._flux_mean, self._flux_mean + spread)
        # The background's statistics: an onset must not raise the bar for the next one.
        deviation = min(flux, threshold) - self._flux_mean
        self._flux_mean += self._flux_alpha * deviation
        self._flux_var += self._flux_alpha * (deviation * deviation - self._flux_var)
        sounded = end - self.onset_delay_s
        if (
            flux > threshold
            and sounded - self._last_onset >= _ONSET_GAP_S
            and not self._quiet[0] < end <= self._quiet[1]
        ):
            self._last_onset = sounded
            events.append(Event(sounded, "audio:onset", 1.0))
        since = sounded - self._last_onset
        events.append(
            Event(end, "audio:hit", math.exp(-since / _HIT_DECAY_S) if since >= 0 else 0.0)
        )
        # 5. Tempo and beats.
        self._env[:-1] = self._env[1:]
        self._env[-1] = flux
        self._env_low[:-1] = self._env_low[1:]
        self._env_low[-1] = float(np.mean(rise[self._mel_low]))
        if self._hops % self._tempo_every == 0 and self._hops >= _TEMPO_MIN_S * self.fps:
            events += self._track_tempo(end)
        events += self._beats_until(end)
        return events

    # ------------------------------------------------------------------- tempo

    def _make_tempo_grid(self, bpm_range: tuple[float, float]) -> dict[str, np.ndarray]:
        """Candidate tempi with the autocorrelation lags (and 2×, 3×, 4×) they read."""
        bpm = np.arange(bpm_range[0], bpm_range[1] + 1e-9, 0.25)
        lags = 60.0 * self.fps / bpm[:, None] * np.arange(1, 5)[None, :]
        usable = lags < len(self._env) - 1
        prior = np.exp(-0.5 * (np.log2(bpm / _PRIOR_BPM) / _PRIOR_OCTAVES) ** 2)
        return {"bpm": bpm, "lags": np.where(usable, lags, 0.0), "usable": usable, "prior": prior}

    def _track_tempo(self, end: float) -> list[Event]:
        env = self._env[-round(min(len(self._env), self._hops)) :]
        x = env - env.mean()
        if float(np.dot(x, x)) <= 1e-12:
            self.bpm = None
            return []
        spectrum = np.fft.rfft(x, 2 * len(x))
        acf = np.fft.irfft(np.abs(spectrum) ** 2)[: len(x)]
        acf /= acf[0]
        grid = self._tempo_grid
        lags = np.minimum(grid["lags"], len(acf) - 1.001)
        comb = np.interp(lags, np.arange(len(acf)), acf) * grid["usable"]
        score = comb.sum(axis=1) / np.maximum(grid["usable"].sum(axis=1), 1) * grid["prior"]
        best = int(np.argmax(score))
        if comb[best, 0] < _TEMPO_CONFIDENCE:
            self.bpm = None
            return []
        bpm = float(grid["bpm"][best])
        if 0 < best < len(score) - 1:  # parabolic refinement between grid points
            a, b, c = score[best - 1 : best + 2]
            if a - 2 * b + c < 0:
                bpm += 0.25 * 0.5 * (a - c) / (a - 2 * b + c)
        self.bpm = bpm
        self._period_s = 60.0 / bpm
        low = self._env_low[-len(env) :]
        # Hi-hats rise more than kicks across the spectrum: give the lows an equal say,
        # or the beat lands on the off-beat.
        both = env / max(float(env.sum()), 1e-9) + low / max(float(low.sum()), 1e-9)
        self._place_beats(both, end)
        return [Event(end, "audio:bpm", bpm)]

    def _place_beats(self, env: np.ndarray, end: float) -> None:
        """Align a grid of the tracked period with the onset envelope; next beat after it."""
        period = self._period_s * self.fps  # in hops
        offsets = np.arange(0.0, period, 0.25)
        beats_back = np.arange(len(env) // period)
        positions = len(env) - 1 - offsets[:, None] - period * beats_back
        # Recent beats weigh most: a period a little off then shifts the grid least.
        weights = _PHASE_MEMORY**beats_back
        strength = np.interp(np.clip(positions, 0, None), np.arange(len(env)), env) @ weights
        # The envelope peaks half a hop after the onset is first seen (measured on clicks).
        lag = float(offsets[int(np.argmax(strength))]) + 0.5
        latest = end - lag / self.fps - self.onset_delay_s
        # Never repeat a beat already given: the next one lies over half a period past it.
        after = self._last_beat + 0.5 * self._period_s
        if not math.isfinite(after):  # the first estimate: the latest beat has passed
            after = latest + 0.5 / self.fps
        steps = math.ceil((after - latest) / self._period_s)
        self._next_beat = latest + max(steps, 0) * self._period_s

    def _beats_until(self, end: float) -> list[Event]:
        if self.bpm is None:
            return []
        events = []
        while self._next_beat <= end - self.onset_delay_s:
            # The beat runs on through a break of a few beats, not through silence.
            if self._next_beat - self._last_onset <= _FLYWHEEL_BEATS * self._period_s:
                events.append(Event(self._next_beat, "audio:beat", 1.0))
            self._last_beat = self._next_beat
            self._next_beat += self._period_s
        since = end - self.onset_delay_s - self._last_beat
        phase = (since / self._period_s) % 1.0 if math.isfinite(since) else 0.0
        return [*events, Event(end, "audio:phase", phase)]


def _mel_bands(freqs: np.ndarray, bands: int, top: float) -> np.ndarray:
    """Triangular mel filters (bands × bins), the empty ones (narrower than a bin) left out."""
    mel = 2595.0 * np.log10(1.0 + freqs / 700.0)
    edges = np.linspace(0.0, 2595.0 * np.log10(1.0 + top / 700.0), bands + 2)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising, falling = (mel - lo) / (mid - lo), (hi - mel) / (hi - mid)
    filters = np.maximum(0.0, np.minimum(rising, falling))
    return filters[filters.sum(axis=1) > 0]
