"""The score: a patch's mappings, timelines, scenes, cues and transport, read once.

``parse(data)`` checks those tables of a parsed patch against the parameter registry,
raising :class:`~performer.mappings.tables.PatchError` at the dotted key
(``mappings[2].curve``, ``timelines.era.keys[3]``), and returns the :class:`Score` the
:class:`~performer.mappings.conductor.Conductor` plays::

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
from performer.mappings.tables import PatchError, Table
from performer.mappings.timeline import Track
from performer.mappings.transport import QUANTIZE, Transport

TRANSPORT_KEYS = ("bpm", "beats_per_bar", "quantize", "fade", "tap")
#: how many of each a patch may declare. Every mapping and every track is stepped each
#: frame, so their count is the tick's cost; scenes and cues only take memory. Each is
#: ten times what the largest shipped patch uses, or more.
MOST = {"mappings": 512, "timelines": 256, "scenes": 1024, "cues": 1024}

__all__ = ["Score", "parse"]


@dataclass
class Score:
    """What a patch gives the conductor, as the patch starts a show. The mappings, tracks
    and transport keep running state, so a conductor plays ``fresh()`` ones of its own."""

    transport: Transport = field(default_factory=Transport)
    quantize: str = "bar"
    fade: float = 0.0
    tap: str | None = None
    tracks: dict[str, Track] = field(default_factory=dict)
    mappings: list[Mapping] = field(default_factory=list)
    scenes: dict[str, dict[str, Any]] = field(default_factory=dict)
    cues: dict[str, Cue] = field(default_factory=dict)


def _count(key: str, value: Any) -> None:
    if isinstance(value, list | MappingType) and len(value) > MOST[key]:
        raise PatchError(key, f"{len(value)} entries; at most {MOST[key]}")


def parse(data: MappingType[str, Any]) -> Score:
    """The score of a parsed patch; :class:`PatchError` for the first thing it cannot play."""
    for key in MOST:
        _count(key, data.get(key))
    transport_table = Table(data.get("transport", {}), "transport")
    transport_table.only(TRANSPORT_KEYS)
    params = data.get("params", {})
    bpm = params.get("bpm", param("bpm").default) if isinstance(params, MappingType) else 120.0
    score = Score(
        transport=Transport.from_table(transport_table, bpm),
        quantize=transport_table.text("quantize", "bar", QUANTIZE),
        fade=transport_table.number("fade", 0.0, 0.0, 1e6),
        tap=trigger_source(transport_table, "tap"),
    )

    timelines = Table(data.get("timelines", {}), "timelines")
    score.tracks = {name: Track.from_table(name, timelines.sub(name)) for name in timelines.data}

    mappings = data.get("mappings", [])
    if not isinstance(mappings, list):
        raise PatchError("mappings", "expected an array of tables ([[mappings]])")
    names = frozenset(n for n, t in score.tracks.items() if not t.text)
    score.mappings = [
        Mapping.from_table(Table(m, f"mappings[{i}]"), names) for i, m in enumerate(mappings)
    ]

    scenes = Table(data.get("scenes", {}), "scenes")
    score.scenes = {name: scene_from_table(scenes.sub(name)) for name in scenes.data}

    cues = Table(data.get("cues", {}), "cues")
    score.cues = {
        name: Cue.from_table(
            name, cues.sub(name), score.scenes, score.tracks, score.quantize, score.fade
        )
        for name in cues.data
    }
    for name in score.scenes:  # every scene can be cued by its own name
        if name not in score.cues:
            score.cues[name] = Cue(name, name, score.quantize, score.fade)
    return score
