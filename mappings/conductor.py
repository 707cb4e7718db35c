"""The conductor: live input, timelines, LFOs and scenes in; one set of changes per frame out.

It plays a :class:`~performer.mappings.score.Score` (a patch's mappings, timelines,
scenes, cues and transport, read once). Each frame, :meth:`Conductor.tick` takes the
live events due, follows the tempo, fires the cues whose beat has come, steps every
mapping, and asks the :class:`~performer.mappings.mixer.Mixer` who plays each parameter.

Everything depends only on the events fed, their times and the tick times, so a
replay on a :class:`~performer.control.clock.FakeClock` produces the same changes (and
the same log lines: they are rate-limited on the performance clock).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from performer.control.events import Event
from performer.control.param import ParamError
from performer.control.params import Snapshot, param
from performer.control.throttle import Throttle
from performer.mappings.learn import Learner, learned_path, learned_toml
from performer.mappings.learn import write as write_learned
from performer.mappings.mapping import Mapping, signal
from performer.mappings.mixer import RUN_TIME_ERRORS, Change, Mixer, Write
from performer.mappings.scenes import Cues, Fade, pressed
from performer.mappings.score import Score
from performer.mappings.tables import Table, one_line
from performer.mappings.timeline import Track

log = logging.getLogger(__name__)

__all__ = ["Change", "Conductor"]


class Conductor:
    def __init__(self, score: Score):
        # fresh mappings, tracks and transport: the patch keeps its score as written, so
        # every conductor made from it (live, replay, a second run) starts alike. Scenes
        # and cues are never changed by playing them.
        self.transport = score.transport.fresh()
        self.tracks: dict[str, Track] = {name: t.fresh() for name, t in score.tracks.items()}
        self.scenes = score.scenes
        self.cues = score.cues
        self.mappings: list[Mapping] = []
        self._by_source: dict[str, list[Mapping]] = defaultdict(list)
        self._mixer = Mixer(self.tracks, self.transport, self._failed)
        for m in score.mappings:
            self._add_mapping(m.fresh())
        self._cues = Cues(self.cues, self.scenes)
        self._tap = score.tap
        self._fed: deque[Event] = deque()  # fed since the last tick
        self._pending: list[tuple[float, int, Event]] = []  # a heap: (time, order fed, event)
        self._order = itertools.count()
        self._fades: list[Fade] = []
        self._last_beat: float | None = None
        self._bpm_seen = self.transport.bpm
        self._learner = Learner()
        self.failures = 0  # mappings, tracks, parameters and events skipped for raising
        self._now = 0.0  # the tick under way: the log's rate follows the performance clock
        self._log = Throttle(1.0, clock=lambda: self._now)

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
            self._mixer.automation[name].set_mode(mode)
        except KeyError:
            automated = ", ".join(self._mixer.automation)
            raise ValueError(f"{name} has no timeline; automated: {automated}") from None

    # -- the frame --------------------------------------------------------------
    def tick(self, now: float, current: Snapshot) -> list[Change]:
        """The parameter values for this frame: at most one change per parameter."""
        self._now = now
        beat = self.transport.beat(now)
        self._take_events(now, current)
        self._follow_tempo(now)
        self._fire_cues(beat, current)
        beat = self.transport.beat(now)
        tracks = {name: self._sample(t, beat, now) for name, t in self.tracks.items()}
        self._step_mappings(now, beat, tracks)
        changes = self._mixer.mix(now, beat, current, tracks, self._fades)
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
                self._refused("cue", event, problem)
        if source == self._tap and pressed(event):
            self.transport.tap(event.time)
        for m in self._by_source.get(source, ()):
            written = self._mixer.last_write(m.param.name)
            holds = m.target is not None and (
                written is None or written.cause == source or m.moved_at >= written.time
            )
            if holds and m.target is not None:
                start = m.target  # it holds the parameter: count from where it was going
            else:
                start = written.value if written is not None else current[m.param.name]
            if m.feed(event, float(start)):
                automation = self._mixer.automation.get(m.param.name)
                if automation is not None and m.combine == "replace":
                    automation.moved(self.transport.beat(event.time))

    def _direct_set(self, event: Event, name: str) -> None:
        try:
            value = param(name).clamp(event.value)
        except ParamError as exc:
            self._refused("param", event, str(exc))
            return
        self._mixer.direct[name] = Write(value, event.time, event.source, live=True)
        if name in self._mixer.automation:
            self._mixer.automation[name].moved(self.transport.beat(event.time))

    # 2. tempo moved by tap or sync: the bpm parameter follows
    def _follow_tempo(self, now: float) -> None:
        if self.transport.bpm != self._bpm_seen:
            cause = f"transport:{self.transport.changed_by or 'tempo'}"
            self._mixer.direct["bpm"] = Write(self.transport.bpm, now, cause, live=False)
            self._bpm_seen = self.transport.bpm

    # 3. cues whose beat has come start their fades; latches let go
    def _fire_cues(self, beat: float, current: Snapshot) -> None:
        before = self._last_beat if self._last_beat is not None else -1e-9
        for fade in self._cues.due(before, beat, lambda name: self._mixer.base(name, current)):
            self._fades.append(fade)
            for name in fade.cue.restart:
                track = self.tracks[name]
                at = fade.start if track.unit == "beats" else self.transport.time_at(fade.start)
                track.origin = at
            for automation in self._mixer.automation.values():
                automation.cue()

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

    # -- what went wrong: one line a second per kind (event sources come from the
    # network, so they cannot be the key), and the show goes on ------------------------
    def _failed(self, kind: str, what: str, exc: Exception) -> None:
        """Count and log one thing skipped for raising."""
        self.failures += 1
        self._log.log(
            log, logging.WARNING, kind, "%s skipped: %s", one_line(what, 120), one_line(str(exc))
        )

    def _refused(self, kind: str, event: Event, problem: str) -> None:
        """Log live input the show cannot use: a value or a name a parameter refuses, a
        program change with no cue."""
        self._log.log(
            log,
            logging.WARNING,
            f"refused {kind}",
            "%s refused: %s",
            one_line(event.source, 120),
            one_line(problem),
        )

    # -- set-up -----------------------------------------------------------------
    def _add_mapping(self, m: Mapping) -> None:
        self.mappings.append(m)
        self._by_source[m.source].append(m)
        self._mixer.plays(m)

    def _learn_mapping(self, table: dict[str, Any]) -> None:
        for old in [m for m in self.mappings if m.learned and m.param.name == table["param"]]:
            self.mappings.remove(old)
            self._by_source[old.source].remove(old)
            self._mixer.drops(old)
        m = Mapping.from_table(Table(table, "learned"))
        m.learned = True  # a second learn onto the same parameter replaces it
        self._add_mapping(m)
