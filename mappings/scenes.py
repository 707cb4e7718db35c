"""Scenes and cues: named sets of values, launched on the beat, cross-faded in beats.

A scene is plain parameter values (prompts included), in the patch's ``[scenes]``.
A cue says how a scene is launched; a scene with no cue of its own launches with the
transport's defaults::

    [scenes.dawn]
    era = 1870
    prompt = "a harbour at dawn"

    [cues.dawn]                 # the cue's name; scene = "dawn" by default
    quantize = "bar"            # none | beat | bar: fire on the next one (like clip launching)
    fade = 2                    # beats of cross-fade from the values it finds
    trigger = "midi:note:10:36" # a pad or button that launches it (on press: value > 0)
    program = 0                 # a MIDI program change (any channel) that launches it
    at = [0, 64]                # beats at which it launches by itself
    every = 128                 # ... repeating every 128 beats
    restart = ["era"]           # timeline tracks that start again from 0 when it fires

A fade moves numbers in a straight line. A new ``prompt`` cross-fades through
``prompt_b``/``prompt_mix`` (when the scene leaves those two alone and no blend is
playing), then settles to prompt = new, prompt_mix = 0; other text switches at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from performer.control.events import Event
from performer.mappings.tables import (
    LIMIT,
    PatchError,
    Table,
    checked,
    number_or_none,
    parameter,
    shown,
)
from performer.mappings.transport import QUANTIZE, Transport

CUE_KEYS = ("scene", "quantize", "fade", "trigger", "program", "at", "every", "restart")
TRIGGERS = ("midi:note:", "midi:cc:", "osc:")
MAX_AT = 1024  # launch beats per cue: every is there for anything regular


def scene_from_table(table: Table) -> dict[str, Any]:
    return {
        name: checked(parameter(name, table.at(name)), value, table.at(name))
        for name, value in table.data.items()
    }


@dataclass(frozen=True)
class Cue:
    name: str
    scene: str
    quantize: str = "bar"
    fade: float = 0.0  # beats
    trigger: str | None = None
    program: int | None = None
    at: tuple[float, ...] = ()
    every: float | None = None
    restart: tuple[str, ...] = ()

    @classmethod
    def from_table(
        cls, name: str, table: Table, scenes: Mapping[str, Any], tracks: Mapping[str, Any],
        quantize: str, fade: float,
    ) -> Cue:  # fmt: skip
        table.only(CUE_KEYS)
        scene = table.text("scene", name)
        if scene not in scenes:
            raise PatchError(
                table.at("scene"), f"no scene named {shown(scene)}; known: {', '.join(scenes)}"
            )
        trigger = trigger_source(table, "trigger")
        program = table.number("program", 0, 0, 127) if table.has("program") else None
        at = table.data.get("at", [])
        at_list = at if isinstance(at, list) else [at]
        beats = [number_or_none(b) for b in at_list[: MAX_AT + 1]]
        if len(beats) > MAX_AT:
            raise PatchError(table.at("at"), f"{len(at_list)} beats; at most {MAX_AT}")
        if any(b is None or b < 0 or b > LIMIT for b in beats):
            raise PatchError(table.at("at"), f"expected beats (numbers >= 0), got {shown(at)}")
        restart = table.data.get("restart", [])
        if not isinstance(restart, list) or any(
            not isinstance(t, str) or t not in tracks for t in restart
        ):
            raise PatchError(
                table.at("restart"),
                f"expected timeline names from {', '.join(tracks)}, got {shown(restart)}",
            )
        return cls(
            name=name,
            scene=scene,
            quantize=table.text("quantize", quantize, QUANTIZE),
            fade=table.number("fade", fade, 0.0, 1e6),
            trigger=trigger,
            program=int(program) if program is not None else None,
            at=tuple(b for b in beats if b is not None),
            every=table.number("every", 0.0, 1e-3, 1e9) if table.has("every") else None,
            restart=tuple(restart),
        )

    def due(self, before: float, beat: float) -> float | None:
        """The latest of the ``at`` beats (repeated ``every``) in (before, beat], if any."""
        hits = []
        for a in self.at:
            if self.every is None:
                if before < a <= beat:
                    hits.append(a)
            elif beat >= a and (beat - a) // self.every > (before - a) // self.every:
                hits.append(a + (beat - a) // self.every * self.every)
        return max(hits) if hits else None


def trigger_source(table: Table, key: str) -> str | None:
    """A button's source (``midi:note:…``, ``midi:cc:…``, ``osc:…``), or None."""
    source = table.text(key, "") or None
    if source is not None and (not source.startswith(TRIGGERS) or source in TRIGGERS):
        raise PatchError(
            table.at(key),
            f"expected a button like midi:note:10:36 or midi:cc:1:41, got {shown(source)}",
        )
    return source


class Fade:
    """A launched scene moving from the values it found to its own, over ``beats``."""

    def __init__(self, cue: Cue, values: Mapping[str, Any], start: float, found: Mapping[str, Any]):
        self.cue, self.start, self.beats = cue, start, cue.fade
        self.cause = f"scene:{cue.scene}"
        self.targets = dict(values)
        self.found = {name: found[name] for name in values}
        self.prompt = self._prompt_fade(found)

    def _prompt_fade(self, found: Mapping[str, Any]) -> str | None:
        new = self.targets.get("prompt")
        if new is None or self.beats <= 0 or new == found["prompt"]:
            return None
        if "prompt_b" in self.targets or "prompt_mix" in self.targets or found["prompt_mix"] != 0:
            return None
        del self.targets["prompt"]
        return str(new)

    def progress(self, beat: float) -> float:
        return 1.0 if self.beats <= 0 else min(max((beat - self.start) / self.beats, 0.0), 1.0)

    def values(self, beat: float) -> dict[str, Any]:
        t = self.progress(beat)
        out: dict[str, Any] = {}
        for name, target in self.targets.items():
            start = self.found[name]
            if isinstance(target, str) or t >= 1.0:
                out[name] = target
            else:
                value = start + (target - start) * t
                out[name] = round(value) if isinstance(target, int) else value
        if self.prompt is not None:
            if t < 1.0:
                out.update(prompt_b=self.prompt, prompt_mix=t)
            else:
                out.update(prompt=self.prompt, prompt_b="", prompt_mix=0.0)
        return out

    def done(self, beat: float) -> bool:
        return self.progress(beat) >= 1.0


def pressed(event: Event) -> bool:
    """A button going down: a note-on or a CC above 0."""
    value = event.value[0] if isinstance(event.value, tuple) and event.value else event.value
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


class Cues:
    """Launches waiting for their beat: from :meth:`launch`, buttons, programs, ``at``."""

    def __init__(self, cues: Mapping[str, Cue], scenes: Mapping[str, Mapping[str, Any]]):
        self.cues, self.scenes = cues, scenes
        self.waiting: list[tuple[float, Cue]] = []  # (beat, cue)
        self.triggers: dict[str, list[Cue]] = defaultdict(list)
        for cue in cues.values():
            if cue.trigger is not None:
                self.triggers[cue.trigger].append(cue)
        self.numbered = any(c.program is not None for c in cues.values())

    def launch(self, name: str, now: float, transport: Transport) -> float:
        try:
            cue = self.cues[name]
        except KeyError:
            raise ValueError(f"unknown cue {name!r}; known: {', '.join(self.cues)}") from None
        beat = transport.next_boundary(now, cue.quantize)
        self.waiting.append((beat, cue))
        return beat

    def take(self, event: Event, transport: Transport) -> str | None:
        """Launch what a button or a program change asks for; a reason if nothing fits."""
        if event.source.startswith("midi:program:"):
            number = event.raw or 0
            if self.numbered:
                named = [c.name for c in self.cues.values() if c.program == number]
            else:  # no program declared: the n-th cue
                named = list(self.cues)[number : number + 1]
            for name in named:
                self.launch(name, event.time, transport)
            return None if named else f"no cue for program {number}"
        if event.source in self.triggers and pressed(event):
            for cue in self.triggers[event.source]:
                self.launch(cue.name, event.time, transport)
        return None

    def due(self, before: float, beat: float, found: Callable[[str], Any]) -> list[Fade]:
        """Fades for the cues whose beat has come, in beat order; ``found`` reads a base value."""
        for cue in self.cues.values():
            at = cue.due(before, beat) if cue.at else None
            if at is not None:
                self.waiting.append((at, cue))
        ready = sorted((b, i) for i, (b, _) in enumerate(self.waiting) if b <= beat + 1e-9)
        fades = []
        for fire_beat, i in ready:
            cue = self.waiting[i][1]
            names = [*self.scenes[cue.scene], "prompt", "prompt_b", "prompt_mix"]
            fades.append(Fade(cue, self.scenes[cue.scene], fire_beat, {n: found(n) for n in names}))
        fired = {i for _, i in ready}
        self.waiting = [w for i, w in enumerate(self.waiting) if i not in fired]
        return fades
