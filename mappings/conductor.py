"""The conductor: live input, timelines, LFOs and scenes in; one set of changes per frame out.

For each parameter, every frame:

1. The *base* value comes from whichever replace source wrote last: a live mapping or
   a direct ``param:<name>`` set (by the time of its event), a scene cross-fade (by
   its launch), or a continuous replace mapping (always now). A timeline on the
   parameter takes the base over as its automation mode says (read/touch/latch/off).
2. Every ``add`` source (mappings and tracks) is summed on top of the base.
3. The sum is clamped into the parameter's range; it becomes a :class:`Change` when
   it differs from the frame's snapshot, with the time of the tick and its cause.

Everything depends only on the events fed, their times and the tick times, so a
replay on a :class:`~performer.control.clock.FakeClock` produces the same changes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import defaultdict, deque
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from performer.control.clock import Clock
from performer.control.events import Event
from performer.control.params import ParamError, Snapshot, param
from performer.control.throttle import Throttle
from performer.mappings.automation import Automation
from performer.mappings.learn import Learner, learned_path, learned_toml
from performer.mappings.learn import write as write_learned
from performer.mappings.mapping import Mapping, signal
from performer.mappings.scenes import Cue, Cues, Fade, pressed
from performer.mappings.spec import parse
from performer.mappings.tables import Table, one_line
from performer.mappings.timeline import Track

log = logging.getLogger(__name__)
#: what a mapping, a track or an event can still raise at run time, whatever the patch
#: validation missed (an overflow in a curve, a non-finite sum): that one is skipped for
#: the frame, logged once a second, and every other one goes on
RUN_TIME_ERRORS = (ArithmeticError, ValueError, TypeError)


@dataclass(frozen=True)
class Change:
    time: float  # performance clock, the tick that produced it
    param: str
    value: Any
    cause: str  # "midi:cc:1:16", "timeline:era", "scene:dawn", "timeline:era+lfo:sine" ...


@dataclass
class _Write:
    """A replace source's latest word on a parameter."""

    value: Any
    time: float
    cause: str
    live: bool


class Conductor:
    def __init__(self, patch_data: MappingType[str, Any], clock: Clock):
        spec = parse(patch_data)
        self.clock = clock
        self.transport = spec.transport
        self.tracks: dict[str, Track] = spec.tracks
        self.scenes = spec.scenes
        self.cues: dict[str, Cue] = spec.cues
        self.mappings: list[Mapping] = []
        self._by_source: dict[str, list[Mapping]] = defaultdict(list)
        self._replace: dict[str, list[Mapping]] = defaultdict(list)
        self._add: dict[str, list[Mapping]] = defaultdict(list)
        for m in spec.mappings:
            self._add_mapping(m)
        self._tracks_for: dict[str, list[Track]] = defaultdict(list)
        for t in self.tracks.values():
            if t.param is not None:
                self._tracks_for[t.param].append(t)
        self._track_params = set(self._tracks_for)
        self._added_by_tracks = {t.param for t in self.tracks.values() if t.combine == "add"}
        self._automation = {
            t.param: Automation(t.mode, t.release)
            for t in self.tracks.values()
            if t.param is not None and t.combine == "replace"
        }
        self._cues = Cues(self.cues, self.scenes)
        self._tap = spec.tap
        self._fed: deque[Event] = deque()  # fed since the last tick
        self._pending: list[tuple[float, int, Event]] = []  # a heap: (time, order fed, event)
        self._order = itertools.count()
        self._fades: list[Fade] = []
        self._direct: dict[str, _Write] = {}
        self._written: dict[str, _Write] = {}  # the write that set each base
        self._emitted: dict[str, Any] = {}
        self._last_beat: float | None = None
        self._bpm_seen = self.transport.bpm
        self._learner = Learner()
        self.rejected: deque[tuple[Event, str]] = deque(maxlen=256)  # what live input got wrong
        self.failures = 0  # mappings, tracks, parameters and events skipped for raising
        self._failure_log = Throttle(1.0)

    # -- input ----------------------------------------------------------------
    def feed(self, event: Event) -> None:
        """Queue one live event; it is applied by the first tick at or after its time."""
        self._fed.append(event)

    def cue(self, name: str, now: float) -> float:
        """Launch a cue (or a scene by name) quantized per the patch; returns its beat."""
        return self._cues.launch(name, now, self.transport)

    def learn(self, name: str) -> None:
        """Arm MIDI learn: the next moving control is mapped to ``name``."""
        self._learner.arm(name)

    def cancel_learn(self) -> None:
        self._learner.cancel()

    @property
    def learned(self) -> list[dict[str, Any]]:
        """The mapping tables learned so far, as a patch's ``[[mappings]]`` would hold them."""
        return list(self._learner.learned)

    def learned_toml(self) -> str:
        return learned_toml(self.learned)

    def write_learned(self, path: str | Path) -> Path:
        """Write the learned mappings as a TOML file of ``[[mappings]]`` tables."""
        return write_learned(path, self.learned)

    def save_learned(self, folder: str | Path, patch_name: str) -> Path:
        """Write the learned mappings into ``folder``, named after the patch (made a safe
        file name: a patch's name is data and cannot choose the folder)."""
        return write_learned(learned_path(folder, patch_name), self.learned)

    def set_mode(self, name: str, mode: str) -> None:
        """Change a parameter's automation mode live (it needs a replace timeline)."""
        try:
            self._automation[name].set_mode(mode)
        except KeyError:
            raise ValueError(
                f"{name} has no timeline; automated: {', '.join(self._automation)}"
            ) from None

    # -- the frame --------------------------------------------------------------
    def tick(self, now: float, current: Snapshot) -> list[Change]:
        """The parameter values for this frame: at most one change per parameter."""
        beat = self.transport.beat(now)
        self._take_events(now, current)
        self._follow_tempo(now)
        self._fire_cues(beat, current)
        beat = self.transport.beat(now)
        tracks = {name: self._sample(t, beat, now) for name, t in self.tracks.items()}
        self._step_mappings(now, beat, tracks)
        changes = self._resolve(now, beat, current, tracks)
        for change in changes:
            if change.param == "bpm" and not change.cause.startswith("transport"):
                self.transport.set_bpm(change.value, now)
        self._bpm_seen = self.transport.bpm
        self._fades = [f for f in self._fades if not f.done(beat)]
        self._last_beat = beat
        return changes

    # 1. live events due by now, in time order
    def _take_events(self, now: float, current: Snapshot) -> None:
        while self._fed:  # popleft is safe against a feed() on another thread
            event = self._fed.popleft()
            heapq.heappush(self._pending, (event.time, next(self._order), event))
        while self._pending and self._pending[0][0] <= now:
            event = heapq.heappop(self._pending)[2]
            try:
                self._take(event, current)
            except RUN_TIME_ERRORS as exc:  # one bad event never loses the others
                self._failed("event", f"event {event.source}", exc)

    def _take(self, event: Event, current: Snapshot) -> None:
        source = event.source
        made = self._learner.offer(event)
        if made is not None:
            self._learn_mapping(made)
        if source.startswith("param:"):
            self._direct_set(event, source[6:])
        else:
            problem = self._cues.take(event, self.transport)
            if problem is not None:
                self.rejected.append((event, problem))
        if source == self._tap and pressed(event):
            self.transport.tap(event.time)
        for m in self._by_source.get(source, ()):
            written = self._written.get(m.param.name)
            holds = m.target is not None and (
                written is None or written.cause == source or m.moved_at >= written.time
            )
            if holds and m.target is not None:
                start = m.target  # it holds the parameter: count from where it was going
            else:
                start = written.value if written is not None else current[m.param.name]
            if m.feed(event, float(start)):
                automation = self._automation.get(m.param.name)
                if automation is not None and m.combine == "replace":
                    automation.moved(self.transport.beat(event.time))

    def _direct_set(self, event: Event, name: str) -> None:
        try:
            value = param(name).clamp(event.value)
        except ParamError as exc:
            self.rejected.append((event, str(exc)))
            return
        self._direct[name] = _Write(value, event.time, event.source, live=True)
        if name in self._automation:
            self._automation[name].moved(self.transport.beat(event.time))

    # 2. tempo moved by tap or sync: the bpm parameter follows
    def _follow_tempo(self, now: float) -> None:
        if self.transport.bpm != self._bpm_seen:
            cause = f"transport:{self.transport.changed_by or 'tempo'}"
            self._direct["bpm"] = _Write(self.transport.bpm, now, cause, live=False)
            self._bpm_seen = self.transport.bpm

    # 3. cues whose beat has come start their fades; latches let go
    def _fire_cues(self, beat: float, current: Snapshot) -> None:
        before = self._last_beat if self._last_beat is not None else -1e-9
        for fade in self._cues.due(before, beat, lambda name: self._base(name, current)):
            self._fades.append(fade)
            for name in fade.cue.restart:
                track = self.tracks[name]
                at = fade.start if track.unit == "beats" else self.transport.time_at(fade.start)
                track.origin = at
            for automation in self._automation.values():
                automation.cue()

    def _base(self, name: str, current: Snapshot) -> Any:
        written = self._written.get(name)
        return written.value if written is not None else current[name]

    # 4. every mapping's smoother moves on, continuous sources sample now
    def _step_mappings(self, now: float, beat: float, tracks: dict[str, Any]) -> None:
        t = self.transport
        bar, phase, bar_phase = t.bar(now), beat % 1.0, t.bar_phase(now)
        for m in self.mappings:
            try:
                m.step_to(now, signal(m, beat, bar, phase, bar_phase, tracks))
            except RUN_TIME_ERRORS as exc:
                self._failed("mapping", f"mapping {m.source} -> {m.param.name}", exc)

    def _sample(self, track: Track, beat: float, now: float) -> Any:
        try:
            return track.value(beat, now)
        except RUN_TIME_ERRORS as exc:
            self._failed("timeline", f"timeline {track.name}", exc)
            return None

    # 5. per parameter: base from replace sources, plus adds, clamped
    def _resolve(
        self, now: float, beat: float, current: Snapshot, tracks: dict[str, Any]
    ) -> list[Change]:
        fade_values = [(f, f.values(beat)) for f in self._fades]
        names = set(self._replace) | set(self._add) | set(self._direct) | self._track_params
        for _, values in fade_values:
            names.update(values)
        changes = []
        for name in sorted(names):
            try:
                value, cause = self._value(name, now, beat, current, tracks, fade_values)
            except RUN_TIME_ERRORS as exc:  # e.g. a sum that is not finite: keep the last
                self._failed("parameter", f"parameter {name}", exc)
                continue
            if value is None:
                continue
            self._emitted[name] = value
            if value != current[name]:
                changes.append(Change(now, name, value, cause))
        self._direct.clear()
        return changes

    def _value(
        self, name: str, now: float, beat: float, current: Snapshot,
        tracks: dict[str, Any], fades: list[tuple[Fade, dict[str, Any]]],
    ) -> tuple[Any, str]:  # fmt: skip
        if name in self._emitted and current[name] != self._emitted[name]:
            self._written[name] = _Write(current[name], now, "outside", live=False)
        written = self._written.get(name)
        candidates = [self._direct[name]] if name in self._direct else []
        for m in self._replace.get(name, ()):
            if m.value is not None:
                candidates.append(_Write(m.value, m.moved_at if m.live else now, m.source, m.live))
        for fade, values in fades:
            if name in values:
                candidates.append(
                    _Write(values[name], self.transport.time_at(fade.start), fade.cause, False)
                )
        for c in candidates:
            if written is None or c.time >= written.time:
                written = c
        automation = self._automation.get(name)
        if (
            automation is not None
            and automation.timeline_plays()
            and not (written is not None and written.live and automation.live_owns(beat))
        ):
            for t in self._tracks_for[name]:
                if t.combine == "replace":
                    written = _Write(tracks[t.name], now, f"timeline:{t.name}", False)
        if written is None:
            if name not in self._add and name not in self._added_by_tracks:
                return None, ""
            written = _Write(current[name], now, "base", False)  # what the adds sit on
        self._written[name] = written
        base, cause = written.value, written.cause
        if param(name).kind == "str":
            return base, cause
        for m in self._add.get(name, ()):
            if m.value is not None:
                base, cause = base + m.value, f"{cause}+{m.source}"
        for t in self._tracks_for.get(name, ()):
            if t.combine == "add":
                base, cause = base + tracks[t.name], f"{cause}+timeline:{t.name}"
        if param(name).kind == "int":
            base = round(base)
        return param(name).clamp(base), cause

    def _failed(self, kind: str, what: str, exc: Exception) -> None:
        """Count and log (once a second per kind: event sources come from the network,
        so they cannot be the key) one thing skipped for raising."""
        self.failures += 1
        self._failure_log.log(
            log, logging.WARNING, kind, "%s skipped: %s", one_line(what, 120), one_line(str(exc))
        )

    # -- set-up -----------------------------------------------------------------
    def _add_mapping(self, m: Mapping) -> None:
        self.mappings.append(m)
        self._by_source[m.source].append(m)
        (self._add if m.combine == "add" else self._replace)[m.param.name].append(m)

    def _learn_mapping(self, table: dict[str, Any]) -> None:
        for old in [m for m in self.mappings if m.learned and m.param.name == table["param"]]:
            self.mappings.remove(old)
            self._by_source[old.source].remove(old)
            self._replace[old.param.name].remove(old)
        m = Mapping(Table(table, "learned"))
        m.learned = True  # a second learn onto the same parameter replaces it
        self._add_mapping(m)
