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

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from performer.control.params import REGISTRY, ParamError, param
from performer.mappings.tables import MAX_TEXT, SHOWN, one_line, shown

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


def _shipped_patches() -> Path:
    """The patches that ship with performer: inside the package when it was installed
    from a wheel, the repository's ``patches/`` in a checkout."""
    installed = resources.files("performer") / "patches"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "patches"


PATCHES_DIR = _shipped_patches()
#: a patch is written by hand: the largest shipped one is 5 KB. A bound on the file
#: keeps a hostile one from costing the parser (pure Python) minutes and gigabytes.
MAX_BYTES = 1 << 20
#: how deep arrays and tables may nest. The deepest a patch needs is 4
#: (``timelines.<track>.keys[i][j]``); past a few hundred, the parser and ``repr``
#: run out of Python's recursion limit.
MAX_DEPTH = 16
#: era anchors. Each anchor is encoded for both prompts on every prompt change, and its
#: embeddings kept (SD-Turbo: 77 x 1024 floats, 315 KB each): 64 anchors are one every
#: three years of the era range and cost 40 MB, where 20,000 took 8.3 GB.
MAX_ANCHORS = 64
#: an anchor phrase joins the prompt; CLIP reads 77 tokens (about 300 characters)
MAX_PHRASE = 300
MAX_PATH = 4096  # model, tiny_vae and lora: a Hugging Face id or a folder
MAX_NAME = 200
#: the fields an era template may use: ``str.format`` with any other raises at encode
TEMPLATE_FIELDS = ("prompt", "era")


class PatchError(ValueError):
    """A patch that cannot be used, naming the file and the key, on one short line."""

    def __init__(self, source: str, key: str, message: str):
        source, key, message = one_line(source), one_line(key, SHOWN), one_line(message)
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
        with path.open("rb") as f:
            # at most one byte past the bound: a 10 GB file (or /dev/zero) is refused
            # after 1 MB read, not after all of it is in memory
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise PatchError(str(path), "file", f"larger than {MAX_BYTES} bytes; not a patch")
        text = data.decode("utf-8")
    except FileNotFoundError:
        named = path != Path(name_or_path)  # a name, looked up in the two folders
        where = f" (looked in ./patches and {PATCHES_DIR})" if named else ""
        raise PatchError(str(path), "file", f"no such patch file{where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatchError(str(path), "file", f"cannot read it ({exc})") from None
    return loads(text, source=str(path), path=path)


def loads(text: str, source: str = "<patch>", path: Path | None = None) -> Patch:
    if len(text) > MAX_BYTES:
        raise PatchError(source, "file", f"{len(text)} characters; a patch is at most {MAX_BYTES}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PatchError(source, "toml", f"not valid TOML ({exc})") from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise PatchError(source, _deep_key(text), f"nested too deep; at most {MAX_DEPTH}") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise PatchError(source, "toml", f"not usable TOML ({exc})") from None
    _check_depth(data, source)
    return replace(from_dict(data, source, path), text=text)


def _check_depth(data: Mapping[str, Any], source: str) -> None:
    """Reject nesting past ``MAX_DEPTH``, naming the key where it goes too deep."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:  # by hand, not recursion: the point is to stay off the recursion limit
        value, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PatchError(source, key, f"nested too deep; at most {MAX_DEPTH}")
        table = isinstance(value, Mapping)
        for k, v in value.items() if table else enumerate(value):
            if isinstance(v, Mapping | list):  # only containers: a flat array costs nothing
                stack.append(
                    (v, (f"{key}.{k}" if key else str(k)) if table else f"{key}[{k}]", depth + 1)
                )


_TOKEN = re.compile(
    "|".join(
        (
            r'"""(?:\\.|[^\\])*?"""',  # multi-line basic string
            r"'''.*?'''",  # multi-line literal string
            r'"(?:\\.|[^"\\\n])*"',  # basic string
            r"'[^'\n]*'",  # literal string
            r"#[^\n]*",  # comment
            r"[\[\]{}=\n]",
            r"[^\s\[\]{}=\"'#,]+",  # a bare key or a value
        )
    ),
    re.S,
)


def _deep_key(text: str) -> str:
    """Where ``text`` nests too deep, as ``line N: key``, read from the text itself
    (the parser gave up, so there are no parsed keys to name)."""
    depth, line, key, previous = 0, 1, "", ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        line += token.count("\n")
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return f"line {line}: {key}" if key else f"line {line}"
        elif token in ("]", "}"):
            depth = max(depth - 1, 0)
        elif token == "=" and depth == 0:
            key = previous
        previous = token
    return "toml"


def from_dict(data: Mapping[str, Any], source: str = "<patch>", path: Path | None = None) -> Patch:
    def fail(key: str, message: str) -> PatchError:
        return PatchError(source, key, message)

    for key in data:
        if key not in PATCH_KEYS:
            raise fail(key, f"unknown key; expected one of {', '.join(PATCH_KEYS)}")

    def text_or_none(key: str) -> str | None:
        value = data.get(key, "")
        if not isinstance(value, str) or len(value) > MAX_PATH:
            raise fail(
                key, f"expected a string of at most {MAX_PATH} characters, got {shown(value)}"
            )
        if value and path is not None and value.startswith("."):
            value = str((path.parent / value).resolve())  # folders relative to the patch
        return value or None

    _check_sequencing(data, fail)
    era = _table(data, "era", fail)
    template = _template(era.get("template", "{prompt}, {era}"), fail)
    for key in era:
        if key not in ("template", "anchors"):
            raise fail(f"era.{key}", "unknown key; expected template or anchors")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise fail("name", f"expected a string of at most {MAX_NAME} characters, got {shown(name)}")

    return Patch(
        name=name or (path.stem if path else "untitled"),
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
    from performer.mappings import SpecError, validate

    try:
        validate(data)
    except SpecError as exc:
        raise fail(exc.key, exc.message) from None


def _table(data: Mapping[str, Any], key: str, fail: Any, prefix: str = "") -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise fail(prefix + key, f"expected a table, got {shown(value)}")
    return value


def _template(template: Any, fail: Any) -> str:
    """The era template, with no field but {prompt} and {era} and no conversion or format
    spec: anything else raises (or, like ``{prompt:>999999999}``, eats memory) at encode."""
    if not isinstance(template, str) or len(template) > MAX_PHRASE:
        raise fail("era.template", f"expected a string of at most {MAX_PHRASE} characters")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise fail("era.template", f"not a template ({exc}); write {{{{ for a brace") from None
    fields = [(name, spec, conversion) for _, name, spec, conversion in parts if name is not None]
    for name, spec, conversion in fields:
        if name not in TEMPLATE_FIELDS or spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise fail(
                "era.template",
                f"unknown field {{{one_line(written, 40)}}}; expected only {{prompt}} and {{era}}",
            )
    if "era" not in (name for name, _, _ in fields):
        raise fail("era.template", f"expected a string containing {{era}}, got {shown(template)}")
    return template


def _values(table: Mapping[str, Any], where: str, fail: Any) -> dict[str, Any]:
    values = {}
    for name, value in table.items():
        if name not in REGISTRY:
            raise fail(f"{where}.{name}", f"unknown parameter; known: {', '.join(REGISTRY)}")
        p = param(name)
        if isinstance(value, str) and len(value) > MAX_TEXT:  # live input is cut; a file is told
            raise fail(f"{where}.{name}", f"{len(value)} characters; at most {MAX_TEXT}")
        try:
            values[name] = p.check(value)
        except (ParamError, OverflowError):  # OverflowError: an int too large for a float
            raise fail(f"{where}.{name}", f"expected {p.expected()}, got {shown(value)}") from None
    return values


def _anchors(table: Mapping[str, Any], fail: Any) -> dict[float, str]:
    era = param("era")
    if len(table) > MAX_ANCHORS:
        raise fail("era.anchors", f"{len(table)} anchors; at most {MAX_ANCHORS}")
    anchors = {}
    for key, phrase in table.items():
        try:
            year = float(key)
            era.check(year)
        except (ValueError, ParamError):
            raise fail(f"era.anchors.{key}", f"expected a year in {era.lo:g}..{era.hi:g}") from None
        if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > MAX_PHRASE:
            raise fail(
                f"era.anchors.{key}",
                f"expected a phrase of at most {MAX_PHRASE} characters, got {shown(phrase)}",
            )
        if year in anchors:  # "1925" and "1925.0" are one year
            raise fail(f"era.anchors.{key}", f"a second anchor for {year:g}")
        anchors[year] = phrase
    return dict(sorted(anchors.items()))


def _mappings(value: Any, fail: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(m, Mapping) for m in value):
        raise fail("mappings", "expected an array of tables ([[mappings]])")
    return value
