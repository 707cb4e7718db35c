"""Patches: TOML files that set up a performance. Data only, never code.

A patch names the model, the prompts, the era anchors (year -> phrase) and the
initial parameter values, and holds the mappings and scenes that the control and
sequencing layers read. Everything is validated against the parameter registry;
errors name the file, the key and what was expected::

    name = "default"
    model = ""                    # "" = the embedded model; or a Hugging Face id or a folder
    tiny_vae = ""                 # optional AutoencoderTiny (TAESD) id or folder
    lora = ""                     # optional LCM-LoRA id or folder

    [params]                      # any parameter from the registry
    prompt = "a street with people"
    era = 1925

    [era]
    template = "{prompt}, {era}"  # how prompt and anchor phrase are joined
    [era.anchors]
    1850 = "daguerreotype"
    1985 = "VHS camcorder footage"

    [[mappings]]                  # read by mappings/
    [scenes.dawn]                 # a named set of parameter values
    era = 1900
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from performer.params import REGISTRY, ParamError, param

PATCH_KEYS = (
    "name",
    "model",
    "tiny_vae",
    "lora",
    "params",
    "era",
    "mappings",
    "scenes",
    "timelines",
    "cues",
    "transport",
)
PATCHES_DIR = Path(__file__).resolve().parent.parent / "patches"


class PatchError(ValueError):
    """A patch that cannot be used, naming the file and the key."""

    def __init__(self, source: str, key: str, message: str):
        super().__init__(f"{source}: {key}: {message}")
        self.source, self.key = source, key


@dataclass(frozen=True)
class Patch:
    name: str = "untitled"
    model: str | None = None
    tiny_vae: str | None = None
    lora: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    anchors: Mapping[float, str] = field(default_factory=dict)
    template: str = "{prompt}, {era}"
    mappings: tuple[Mapping[str, Any], ...] = ()
    scenes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # the whole parsed file
    text: str = ""  # the TOML as written, copied into takes


def find(name_or_path: str | Path) -> Path:
    """A patch by path, or by name from ``./patches`` or the project's ``patches/``."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    for folder in (Path("patches"), PATCHES_DIR):
        candidate = folder / f"{name_or_path}.toml"
        if candidate.is_file():
            return candidate
    return path.with_suffix(".toml")


def load(name_or_path: str | Path) -> Patch:
    path = find(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatchError(str(path), "file", "no such patch file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatchError(str(path), "file", f"cannot read it ({exc})") from None
    return loads(text, source=str(path), path=path)


def loads(text: str, source: str = "<patch>", path: Path | None = None) -> Patch:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PatchError(source, "toml", f"not valid TOML ({exc})") from None
    return replace(from_dict(data, source, path), text=text)


def from_dict(data: Mapping[str, Any], source: str = "<patch>", path: Path | None = None) -> Patch:
    def fail(key: str, message: str) -> PatchError:
        return PatchError(source, key, message)

    for key in data:
        if key not in PATCH_KEYS:
            raise fail(key, f"unknown key; expected one of {', '.join(PATCH_KEYS)}")

    def text_or_none(key: str) -> str | None:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise fail(key, f"expected a string, got {value!r}")
        if value and path is not None and value.startswith("."):
            value = str((path.parent / value).resolve())  # folders relative to the patch
        return value or None

    _check_sequencing(data, fail)
    era = _table(data, "era", fail)
    template = era.get("template", "{prompt}, {era}")
    if not isinstance(template, str) or "{era}" not in template:
        raise fail("era.template", f"expected a string containing {{era}}, got {template!r}")
    for key in era:
        if key not in ("template", "anchors"):
            raise fail(f"era.{key}", "unknown key; expected template or anchors")

    return Patch(
        name=str(data.get("name") or (path.stem if path else "untitled")),
        model=text_or_none("model"),
        tiny_vae=text_or_none("tiny_vae"),
        lora=text_or_none("lora"),
        params=_values(_table(data, "params", fail), "params", fail),
        anchors=_anchors(_table(era, "anchors", fail, prefix="era."), fail),
        template=template,
        mappings=tuple(_mappings(data.get("mappings", []), fail)),
        scenes=_table(data, "scenes", fail),
        path=path,
        data=data,
    )


def _check_sequencing(data: Mapping[str, Any], fail: Any) -> None:
    """Mappings, scenes, timelines, cues and transport are the mappings package's to judge."""
    from mappings import SpecError, validate

    try:
        validate(data)
    except SpecError as exc:
        raise fail(exc.key, exc.message) from None


def _table(data: Mapping[str, Any], key: str, fail: Any, prefix: str = "") -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise fail(prefix + key, f"expected a table, got {value!r}")
    return value


def _values(table: Mapping[str, Any], where: str, fail: Any) -> dict[str, Any]:
    values = {}
    for name, value in table.items():
        if name not in REGISTRY:
            raise fail(f"{where}.{name}", f"unknown parameter; known: {', '.join(REGISTRY)}")
        try:
            values[name] = param(name).check(value)
        except ParamError:
            raise fail(
                f"{where}.{name}", f"expected {param(name).expected()}, got {value!r}"
            ) from None
    return values


def _anchors(table: Mapping[str, Any], fail: Any) -> dict[float, str]:
    era = param("era")
    anchors = {}
    for key, phrase in table.items():
        try:
            year = float(key)
            era.check(year)
        except (ValueError, ParamError):
            raise fail(f"era.anchors.{key}", f"expected a year in {era.lo:g}..{era.hi:g}") from None
        if not isinstance(phrase, str) or not phrase.strip():
            raise fail(f"era.anchors.{key}", f"expected a phrase, got {phrase!r}")
        anchors[year] = phrase
    return dict(sorted(anchors.items()))


def _mappings(value: Any, fail: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(m, Mapping) for m in value):
        raise fail("mappings", "expected an array of tables ([[mappings]])")
    return value
