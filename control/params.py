"""The parameter registry: every knob of the instrument, declared once.

Patch validation, OSC addresses (``/performer/<name>``), the HUD and the README's
parameter table are all derived from :data:`REGISTRY`. What one parameter is, and how
its values are checked, is :mod:`performer.control.param`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from performer.control.param import Param, ParamError


def _table(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


#: prompt blocks: more prompts beside prompt and prompt_b, each with a weight
BLOCKS = 4


def _blocks() -> list[Param]:
    """``block_<n>`` and ``block_<n>_weight`` for each prompt block (empty text: no block)."""
    params = []
    for n in range(1, BLOCKS + 1):
        params.append(Param(f"block_{n}", "str", "", unit="text", doc=f"Prompt block {n}."))
        params.append(
            Param(f"block_{n}_weight", "float", 1.0, 0.0, 1.0, "", f"Prompt block {n}'s weight.")
        )
    return params


_PARAMS = _table(
    Param(
        "timestep",
        "float",
        0.6,
        0.0,
        1.0,
        "",
        "How far each frame is re-noised: 0 holds the image, 1 is a fresh sample.",
    ),
    Param(
        "guidance",
        "float",
        0.0,
        0.0,
        12.0,
        "",
        "Classifier-free guidance on top of the prompt; 0 is off (cheapest).",
    ),
    Param(
        "era",
        "float",
        1960.0,
        1840.0,
        2030.0,
        "year",
        "The year whose records the picture looks like.",
    ),
    Param(
        "prompt",
        "str",
        "a street with people, houses and a car",
        unit="text",
        doc="What the picture shows.",
    ),
    Param(
        "prompt_b",
        "str",
        "",
        unit="text",
        doc="A second prompt to blend towards; empty means the same as prompt.",
    ),
    Param("prompt_mix", "float", 0.0, 0.0, 1.0, "", "Blend from prompt (0) to prompt_b (1)."),
    Param(
        "prompt_weight",
        "float",
        1.0,
        0.0,
        1.0,
        "",
        "The prompt's (and prompt_b's) weight against the prompt blocks.",
    ),
    *_blocks(),
    Param(
        "block_blend",
        "int",
        0,
        0,
        1,
        "",
        "How prompt blocks blend into the prompt: 0 linear, 1 slerp.",
    ),
    Param("seed", "int", 0, 0, 2**31 - 1, "", "The noise the picture grows from."),
    Param("seed_travel", "float", 0.0, 0.0, 1.0, "", "Glide from seed (0) towards seed + 1 (1)."),
    Param(
        "zoom",
        "float",
        1.0,
        0.5,
        2.0,
        "x/frame",
        "Feedback zoom applied to the previous frame each frame.",
    ),
    Param(
        "rotate",
        "float",
        0.0,
        -45.0,
        45.0,
        "deg/frame",
        "Feedback rotation applied to the previous frame each frame.",
    ),
    Param(
        "translate_x",
        "float",
        0.0,
        -0.5,
        0.5,
        "width/frame",
        "Feedback horizontal drift of the previous frame.",
    ),
    Param(
        "translate_y",
        "float",
        0.0,
        -0.5,
        0.5,
        "height/frame",
        "Feedback vertical drift of the previous frame.",
    ),
    Param(
        "input_mix",
        "float",
        0.0,
        0.0,
        1.0,
        "",
        "Where each frame starts: the previous frame (0, feedback) or the live input (1).",
    ),
    Param(
        "input_fit",
        "int",
        0,
        0,
        2,
        "",
        "How the input fills the frame: 0 cover, 1 contain, 2 stretch.",
    ),
    Param(
        "input_mirror",
        "int",
        0,
        0,
        1,
        "",
        "1 mirrors the input left to right (a camera facing you).",
    ),
    Param(
        "control_strength",
        "float",
        1.0,
        0.0,
        2.0,
        "",
        "How firmly a ControlNet holds the picture to its control image; 0 is off.",
    ),
    Param(
        "control_source",
        "int",
        0,
        0,
        2,
        "",
        "A ControlNet's control image: 0 the previous frame, 1 the live input, 2 a still.",
    ),
    Param(
        "control_start",
        "float",
        0.0,
        0.0,
        1.0,
        "",
        "The share of each frame's steps after which the ControlNets start to act.",
    ),
    Param(
        "control_end",
        "float",
        1.0,
        0.0,
        1.0,
        "",
        "The share of each frame's steps after which the ControlNets stop acting.",
    ),
    Param(
        "ip_scale",
        "float",
        1.0,
        0.0,
        2.0,
        "",
        "How strongly an IP-Adapter's image prompt steers the picture; 0 is off.",
    ),
    Param(
        "ip_source",
        "int",
        0,
        0,
        2,
        "",
        "An IP-Adapter's image prompt: 0 its file, 1 the live input, 2 the grabbed picture.",
    ),
    Param(
        "ip_grab",
        "int",
        0,
        0,
        2**31 - 1,
        "",
        "Each change grabs the picture as the IP-Adapter's image prompt (G, /performer/ip/grab).",
    ),
    Param("steps", "int", 1, 1, 4, "", "Denoising steps per frame."),
    Param("width", "int", 512, 16, 2048, "px", "Generated frame width.", live=False),
    Param("height", "int", 512, 16, 2048, "px", "Generated frame height.", live=False),
    Param(
        "crossfade",
        "float",
        0.5,
        0.0,
        1.0,
        "frame",
        "Display cross-fade between generated frames, as a share of the frame interval.",
    ),
    Param(
        "flash",
        "float",
        0.0,
        0.0,
        1.0,
        "",
        "White over the picture, drawn by the display: map audio:hit to it for a strobe.",
    ),
    Param("bpm", "float", 120.0, 20.0, 300.0, "bpm", "Tempo of the performance clock."),
)
_FIXED = frozenset(_PARAMS)
MAX_DECLARED = 64  # the knobs a show may add (8 LoRAs a patch; old ones are forgotten)
DECLARED_NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
#: every parameter: the instrument's own, then those a show declares (live LoRAs)
REGISTRY: Mapping[str, Param] = MappingProxyType(_PARAMS)


def lora_param(name: str) -> Param:
    """The knob of the live LoRA called ``name`` (``--lora FILE:NAME``, ``[[loras]]``)."""
    return Param(f"lora_{name}", "float", 1.0, 0.0, 2.0, "", f"LoRA {name}'s weight; 0 is off.")


def control_param(n: int) -> Param:
    """The strength knob of ControlNet ``n`` (1, 2, ...) when several play at once."""
    return Param(
        f"control_strength_{n}",
        "float",
        1.0,
        0.0,
        2.0,
        "",
        f"How firmly ControlNet {n} holds the picture to its control image; 0 is off.",
    )


def declare(p: Param) -> Param:
    """Add a parameter the show brings (a live LoRA's knob), before its inputs start:
    OSC, OSCQuery, MIDI learn and the HUD then know it as any other."""
    if not DECLARED_NAME.fullmatch(p.name):  # it is an OSC address and a patch's key
        raise ParamError(f"{p.name[:60]!r}: a knob's name is lowercase letters, digits and _")
    known = _PARAMS.get(p.name)
    if known is not None and known != p:
        raise ParamError(f"{p.name}: a parameter of that name exists already")
    if known is None and len(_PARAMS) - len(_FIXED) >= MAX_DECLARED:
        raise ParamError(f"{p.name}: at most {MAX_DECLARED} parameters beyond the registry's")
    _PARAMS[p.name] = p
    return p


def forget(name: str) -> None:
    """Take back a parameter :func:`declare` added (tests, a show's end)."""
    if name in _FIXED:
        raise ParamError(f"{name}: a fixed parameter of the instrument")
    _PARAMS.pop(name, None)


def param(name: str) -> Param:
    """Look up a parameter by name, with an error that lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ParamError(_unknown(name)) from None


def _unknown(name: str) -> str:
    """Why ``name`` is not a parameter: a knob the show would declare says what declares
    it; any other name lists the known ones."""
    shown = repr(name[:60])
    if re.fullmatch(r"control_strength_[0-9]{1,3}", name):
        return (
            f"unknown parameter {shown}: control_strength_<n> is a knob when two or more "
            "ControlNets play, one per ControlNet (--controlnet, [[controlnets]])"
        )
    if name.startswith("lora_"):
        return (
            f"unknown parameter {shown}: lora_<name> is the knob of a live LoRA loaded as "
            "--lora FILE:NAME or in [[loras]]"
        )
    return f"unknown parameter {shown}; known: {', '.join(REGISTRY)}"


def defaults() -> dict[str, Any]:
    return {p.name: p.default for p in REGISTRY.values()}


class Snapshot(Mapping[str, Any]):
    """All parameter values at one instant; immutable, safe to hand to another thread."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **changes: Any) -> Snapshot:
        for name, value in changes.items():
            changes[name] = param(name).check(value)
        return Snapshot({**self._values, **changes})

    def __repr__(self) -> str:
        return f"Snapshot({self._values!r})"


class ParamStore:
    """The current value of every parameter; written by inputs, read once per frame."""

    def __init__(self, initial: Mapping[str, Any] | None = None):
        self._lock = threading.Lock()
        # set on every write: the generator, holding a picture, waits on it
        self.changed = threading.Event()
        self._values = defaults()
        for name, value in (initial or {}).items():
            self._values[name] = param(name).check(value)

    def set(self, name: str, value: Any) -> Any:
        """Clamp ``value`` into range and store it; returns what was stored."""
        value = param(name).clamp(value)
        with self._lock:
            self._values[name] = value
        self.changed.set()
        return value

    def update(self, values: Iterable[tuple[str, Any]]) -> None:
        """Apply several values at once: a frame sees all of them or none."""
        checked = [(name, param(name).clamp(value)) for name, value in values]
        with self._lock:
            self._values.update(checked)
        self.changed.set()

    def get(self, name: str) -> Any:
        param(name)
        with self._lock:
            return self._values[name]

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._values)

    def holds(self, snap: Snapshot) -> bool:
        """Whether every value is still what ``snap`` holds (compared in place: no copy)."""
        with self._lock:
            return self._values == snap._values
