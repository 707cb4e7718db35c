"""The patch tables this package reads, validated against the parameter registry.

``validate(data)`` checks ``mappings``, ``scenes``, ``timelines``, ``cues`` and
``transport`` of a parsed patch and raises :class:`SpecError` naming the dotted key
(``mappings[2].curve``, ``timelines.era.keys[3]``). ``parse(data)`` returns the
runtime objects the :class:`~mappings.conductor.Conductor` plays::

    [transport]
    bpm = 120               # default: params.bpm, else the registry's
    beats_per_bar = 4
    quantize = "bar"        # default launch quantize for cues: none | beat | bar
    fade = 0                # default scene cross-fade, beats
    tap = "midi:cc:1:46"    # a button that taps the tempo (on press)
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from typing import Any

from performer.control.params import param
from performer.mappings.mapping import Mapping
from performer.mappings.scenes import Cue, scene_from_table, trigger_source
from performer.mappings.tables import SpecError, Table
from performer.mappings.timeline import Track
from performer.mappings.transport import QUANTIZE, Transport

TRANSPORT_KEYS = ("bpm", "beats_per_bar", "quantize", "fade", "tap")
#: how many of each a patch may declare. Every mapping and every track is stepped each
#: frame, so their count is the tick's cost; scenes and cues only take memory. Each is
#: ten times what the largest shipped patch uses, or more.
MOST = {"mappings": 512, "timelines": 256, "scenes": 1024, "cues": 1024}

__all__ = ["PatchSpec", "SpecError", "parse", "validate"]


@dataclass
class PatchSpec:
    transport: Transport
    quantize: str = "bar"
    fade: float = 0.0
    tap: str | None = None
    tracks: dict[str, Track] = field(default_factory=dict)
    mappings: list[Mapping] = field(default_factory=list)
    scenes: dict[str, dict[str, Any]] = field(default_factory=dict)
    cues: dict[str, Cue] = field(default_factory=dict)


def _count(key: str, value: Any) -> None:
    if isinstance(value, list | MappingType) and len(value) > MOST[key]:
        raise SpecError(key, f"{len(value)} entries; at most {MOST[key]}")


def parse(data: MappingType[str, Any]) -> PatchSpec:
    for key in MOST:
        _count(key, data.get(key))
    transport_table = Table(data.get("transport", {}), "transport")
    transport_table.only(TRANSPORT_KEYS)
    params = data.get("params", {})
    bpm = params.get("bpm", param("bpm").default) if isinstance(params, MappingType) else 120.0
    spec = PatchSpec(
        transport=Transport.from_table(transport_table, bpm),
        quantize=transport_table.text("quantize", "bar", QUANTIZE),
        fade=transport_table.number("fade", 0.0, 0.0, 1e6),
        tap=trigger_source(transport_table, "tap"),
    )

    timelines = Table(data.get("timelines", {}), "timelines")
    spec.tracks = {name: Track.from_table(name, timelines.sub(name)) for name in timelines.data}

    mappings = data.get("mappings", [])
    if not isinstance(mappings, list):
        raise SpecError("mappings", "expected an array of tables ([[mappings]])")
    names = frozenset(n for n, t in spec.tracks.items() if not t.text)
    spec.mappings = [Mapping(Table(m, f"mappings[{i}]"), names) for i, m in enumerate(mappings)]

    scenes = Table(data.get("scenes", {}), "scenes")
    spec.scenes = {name: scene_from_table(scenes.sub(name)) for name in scenes.data}

    cues = Table(data.get("cues", {}), "cues")
    spec.cues = {
        name: Cue.from_table(
            name, cues.sub(name), spec.scenes, spec.tracks, spec.quantize, spec.fade
        )
        for name in cues.data
    }
    for name in spec.scenes:  # every scene can be cued by its own name
        if name not in spec.cues:
            spec.cues[name] = Cue(name, name, spec.quantize, spec.fade)
    return spec


def validate(data: MappingType[str, Any]) -> None:
    """Raise :class:`SpecError` for the first thing in the patch this package cannot play."""
    parse(data)
