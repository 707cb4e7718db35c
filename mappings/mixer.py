"""The mixer: for each parameter, every frame, which source plays it and what adds on top.

1. The *base* value comes from whichever replace source wrote last: a live mapping or
   a direct ``param:<name>`` set (by the time of its event), a scene cross-fade (by
   its launch), or a continuous replace mapping (always now). A timeline on the
   parameter takes the base over as its automation mode says (read/touch/latch/off).
2. Every ``add`` source (mappings and tracks) is summed on top of the base.
3. The sum is clamped into the parameter's range; it becomes a :class:`Change` when
   it differs from the frame's snapshot, with the time of the tick and its cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Any

from performer.control.params import Snapshot, param
from performer.mappings.automation import Automation
from performer.mappings.mapping import Mapping
from performer.mappings.scenes import Fade
from performer.mappings.timeline import Track
from performer.mappings.transport import Transport

#: what a mapping, a track or an event can still raise at run time, whatever the patch
#: validation missed (an overflow in a curve, a non-finite sum): that one is skipped for
#: the frame, logged once a second, and every other one goes on
RUN_TIME_ERRORS = (ArithmeticError, ValueError, TypeError)
#: told of one thing skipped for raising: (kind, what, the exception)
Failed = Callable[[str, str, Exception], None]


@dataclass(frozen=True)
class Change:
    time: float  # performance clock, the tick that produced it
    param: str
    value: Any
    cause: str  # "midi:cc:1:16", "timeline:era", "scene:dawn", "timeline:era+lfo:sine" ...


@dataclass
class Write:
    """A replace source's latest word on a parameter."""

    value: Any
    time: float
    cause: str
    live: bool


class Mixer:
    """Who wrote each parameter last, and the mappings and tracks that play on it."""

    def __init__(self, tracks: MappingType[str, Track], transport: Transport, failed: Failed):
        self.transport, self._failed = transport, failed
        self.replace: dict[str, list[Mapping]] = defaultdict(list)
        self.add: dict[str, list[Mapping]] = defaultdict(list)
        self._tracks_for: dict[str, list[Track]] = defaultdict(list)
        for t in tracks.values():
            if t.param is not None:
                self._tracks_for[t.param].append(t)
        self._track_params = set(self._tracks_for)
        self._added_by_tracks = {t.param for t in tracks.values() if t.combine == "add"}
        self.automation = {
            t.param: Automation(t.mode, t.release)
            for t in tracks.values()
            if t.param is not None and t.combine == "replace"
        }
        self.direct: dict[str, Write] = {}  # param:<name> sets of this tick
        self._written: dict[str, Write] = {}  # the write that set each base
        self._emitted: dict[str, Any] = {}

    def plays(self, m: Mapping) -> None:
        (self.add if m.combine == "add" else self.replace)[m.param.name].append(m)

    def drops(self, m: Mapping) -> None:
        (self.add if m.combine == "add" else self.replace)[m.param.name].remove(m)

    def last_write(self, name: str) -> Write | None:
        return self._written.get(name)

    def base(self, name: str, current: Snapshot) -> Any:
        """The value the last replace source left on ``name`` (before the adds)."""
        written = self._written.get(name)
        return written.value if written is not None else current[name]

    def mix(
        self, now: float, beat: float, current: Snapshot, tracks: dict[str, Any], fades: list[Fade]
    ) -> list[Change]:
        """At most one change per parameter: base from replace sources, plus adds, clamped."""
        fade_values = [(f, f.values(beat)) for f in fades]
        names = set(self.replace) | set(self.add) | set(self.direct) | self._track_params
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
        self.direct.clear()
        return changes

    def _value(
        self, name: str, now: float, beat: float, current: Snapshot,
        tracks: dict[str, Any], fades: list[tuple[Fade, dict[str, Any]]],
    ) -> tuple[Any, str]:  # fmt: skip
        written = self._base_write(name, now, beat, current, tracks, fades)
        if written is None:
            return None, ""
        self._written[name] = written
        base, cause = written.value, written.cause
        if param(name).kind == "str":
            return base, cause
        for m in self.add.get(name, ()):
            if m.value is not None:
                base, cause = base + m.value, f"{cause}+{m.source}"
        for t in self._tracks_for.get(name, ()):
            if t.combine == "add":
                base, cause = base + tracks[t.name], f"{cause}+timeline:{t.name}"
        if param(name).kind == "int":
            base = round(base)
        return param(name).clamp(base), cause

    def _base_write(
        self, name: str, now: float, beat: float, current: Snapshot,
        tracks: dict[str, Any], fades: list[tuple[Fade, dict[str, Any]]],
    ) -> Write | None:  # fmt: skip
        """The replace source that wrote ``name`` last (or its timeline, as its mode
        says); the snapshot's value when only adds play on it; None when nothing does."""
        if name in self._emitted and current[name] != self._emitted[name]:
            self._written[name] = Write(current[name], now, "outside", live=False)
        written = self._written.get(name)
        candidates = [self.direct[name]] if name in self.direct else []
        for m in self.replace.get(name, ()):
            if m.value is not None:
                candidates.append(Write(m.value, m.moved_at if m.live else now, m.source, m.live))
        for fade, values in fades:
            if name in values:
                candidates.append(
                    Write(values[name], self.transport.time_at(fade.start), fade.cause, False)
                )
        for c in candidates:
            if written is None or c.time >= written.time:
                written = c
        automation = self.automation.get(name)
        if (
            automation is not None
            and automation.timeline_plays()
            and not (written is not None and written.live and automation.live_owns(beat))
        ):
            for t in self._tracks_for[name]:
                if t.combine == "replace":
                    written = Write(tracks[t.name], now, f"timeline:{t.name}", False)
        if written is None and (name in self.add or name in self._added_by_tracks):
            written = Write(current[name], now, "base", False)  # what the adds sit on
        return written
