"""Patches: TOML files that set up a performance. Data only, never code.

A patch names the model, the prompts, the era anchors (year -> phrase) and the
initial parameter values, and holds the score the conductor plays (mappings,
timelines, scenes, cues, transport: :mod:`performer.mappings.score`). Everything is
validated once, at load, against the parameter registry; every error is one
:class:`PatchError` line naming the file, the key and what was expected::

    name = "default"
    model = ""                    # "" = the embedded model; or a Hugging Face id or a folder
    tiny_vae = ""                 # optional AutoencoderTiny (TAESD) id or folder
    lora = ""                     # optional LCM-LoRA id or folder, fused into the model

    [params]                      # any parameter from the registry
    prompt = "a street with people"
    era = 1925

    [era]
    template = "{prompt}, {era}"  # how prompt and anchor phrase are joined
    [era.anchors]
    1850 = "daguerreotype"
    1985 = "VHS camcorder footage"

    [[prompts]]                   # prompt blocks (performer.patch_prompts)
    text = "a red boat"
    weight = 0.5

    [[loras]]                     # live LoRAs, each a knob lora_<name> (performer.patch_loras)
    source = "./loras/ink.safetensors"
    name = "ink"

    [[controlnets]]               # ControlNets, up to 4 (performer.patch_control)
    source = "./controlnets/lineart"

    [ip_adapter]                  # an image prompt (performer.patch_ip)
    source = "h94/IP-Adapter"
    image = "refs/face.png"

    [[mappings]]                  # the score: read by performer.mappings
    [scenes.dawn]                 # a named set of parameter values
    era = 1900

    [input]                       # live video in (performer.patch_video)
    source = "camera"
    [[outputs]]                   # video out
    sink = "ndi:performer"
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from performer import (
    patch_control,
    patch_ip,
    patch_loras,
    patch_paths,
    patch_prompts,
    patch_video,
    toml_reader,
)
from performer.control.param import ParamError
from performer.control.params import REGISTRY, param
from performer.mappings.score import Score, parse
from performer.mappings.tables import MAX_TEXT, PatchError, Table, one_line, shown

PATCH_KEYS = (
    "name",
    "model",
    "tiny_vae",
    "lora",
    "params",
    "prompts",
    "loras",
    "controlnets",
    "ip_adapter",
    "era",
    "mappings",
    "scenes",
    "timelines",
    "cues",
    "transport",
    "input",
    "outputs",
)


def _shipped_patches() -> Path:
    """The patches that ship with performer: inside the package when it was installed
    from a wheel, the repository's ``patches/`` in a checkout."""
    installed = resources.files("performer") / "patches"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "patches"


PATCHES_DIR = _shipped_patches()
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


@dataclass(frozen=True)
class Patch:
    name: str = "untitled"
    model: str | None = None
    tiny_vae: str | None = None
    lora: str | None = None
    loras: tuple[tuple[str, str], ...] = ()  # [[loras]]: (source, name), played live
    controlnets: tuple[tuple[str, str], ...] = ()  # [[controlnets]]: (source, preprocessor)
    control_image: str | None = None  # [[controlnets]] still: a file in the patch's folder
    ip_adapter: str | None = None  # [ip_adapter]: the IP-Adapter prompting with an image
    ip_image: str | None = None  # [ip_adapter] image: its file, when the image is one
    params: Mapping[str, Any] = field(default_factory=dict)
    anchors: Mapping[float, str] = field(default_factory=dict)
    template: str = "{prompt}, {era}"
    score: Score = field(default_factory=Score)  # what the conductor plays, validated
    input: str | None = None  # [input] source: the video each frame may start from
    outputs: tuple[str, ...] = ()  # [[outputs]]: where the picture goes (sink specs)
    path: Path | None = None
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
    """The patch at a path, or by name (see :func:`find`)."""
    path = find(name_or_path)
    try:
        text = toml_reader.read(path)
    except FileNotFoundError:
        named = path != Path(name_or_path)  # a name, looked up in the two folders
        where = f" (looked in ./patches and {PATCHES_DIR})" if named else ""
        raise PatchError("file", f"no such patch file{where}", str(path)) from None
    except PatchError as exc:
        raise exc.in_file(str(path)) from None
    return loads(text, source=str(path), path=path)


def loads(text: str, source: str = "<patch>", path: Path | None = None) -> Patch:
    """The patch ``text`` holds; a :class:`PatchError` names ``source``, the key and what
    was expected. ``path``: where it lies (model folders are relative to it)."""
    try:
        return _patch(toml_reader.parse(text), path, text)
    except PatchError as exc:
        raise exc.in_file(source) from None


def _patch(data: Mapping[str, Any], path: Path | None, text: str) -> Patch:
    top = Table(data, "")
    top.only(PATCH_KEYS)
    # first: their knobs join the registry, for [params], the score and scenes to name
    loras, lora_weights = patch_loras.loras(data.get("loras", []), path)
    controlnets, still, control = patch_control.controlnets(data.get("controlnets", []), path)
    ip_adapter, ip_image, ip = patch_ip.ip_adapter(top.sub("ip_adapter"), path)
    score = parse(data)  # the mappings package's tables, read once: the conductor plays them
    era = top.sub("era")
    template = _template(era.data.get("template", "{prompt}, {era}"))
    era.only(("template", "anchors"))
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise PatchError(
            "name", f"expected a string of at most {MAX_NAME} characters, got {shown(name)}"
        )
    return Patch(
        name=name or (path.stem if path else "untitled"),
        model=_folder(data, "model", path),
        tiny_vae=_folder(data, "tiny_vae", path),
        lora=_folder(data, "lora", path),
        params=_params(
            top.sub("params"), data.get("prompts", []), {**lora_weights, **control, **ip}
        ),
        loras=loras,
        controlnets=controlnets,
        control_image=still,
        ip_adapter=ip_adapter,
        ip_image=ip_image,
        anchors=_anchors(era.sub("anchors")),
        template=template,
        score=score,
        input=patch_video.source(top.sub("input"), path),
        outputs=patch_video.outputs(data.get("outputs", [])),
        path=path,
        text=text,
    )


def _folder(data: Mapping[str, Any], key: str, path: Path | None) -> str | None:
    """A Hugging Face id, or a folder in the patch's folder (``patch_paths.weights_source``)."""
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > MAX_PATH:
        raise PatchError(
            key, f"expected a string of at most {MAX_PATH} characters, got {shown(value)}"
        )
    return patch_paths.weights_source(value, key, path) if value else None


def _template(template: Any) -> str:
    """The era template, with no field but {prompt} and {era} and no conversion or format
    spec: anything else raises (or, like ``{prompt:>999999999}``, eats memory) at encode."""
    if not isinstance(template, str) or len(template) > MAX_PHRASE:
        raise PatchError("era.template", f"expected a string of at most {MAX_PHRASE} characters")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # a lone { or }
        raise PatchError(
            "era.template", f"not a template ({exc}); write {{{{ for a brace"
        ) from None
    fields = [(name, spec, conversion) for _, name, spec, conversion in parts if name is not None]
    for name, spec, conversion in fields:
        if name not in TEMPLATE_FIELDS or spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PatchError(
                "era.template",
                f"unknown field {{{one_line(written, 40)}}}; expected only {{prompt}} and {{era}}",
            )
    if "era" not in (name for name, _, _ in fields):
        raise PatchError(
            "era.template", f"expected a string containing {{era}}, got {shown(template)}"
        )
    return template


def _params(table: Table, prompts: Any, more_values: Mapping[str, Any]) -> dict[str, Any]:
    """``[params]``, the ``[[prompts]]`` blocks and the values ``[[loras]]``,
    ``[[controlnets]]`` and ``[ip_adapter]`` start their knobs at, which may not set a
    value twice."""
    values = _values(table)
    for where, more in (
        ("[[prompts]]", patch_prompts.blocks(prompts)),
        ("[[loras]], [[controlnets]] or [ip_adapter]", more_values),
    ):
        for name in more:
            if name in values:
                raise PatchError(table.at(name), f"set by {where} too; set it in one place")
        values.update(more)
    return values


def _values(table: Table) -> dict[str, Any]:
    """``[params]``: each value as its parameter takes it."""
    values = {}
    for name, value in table.data.items():
        key = table.at(name)
        if name not in REGISTRY:
            raise PatchError(key, f"unknown parameter; known: {', '.join(REGISTRY)}")
        p = param(name)
        if isinstance(value, str) and len(value) > MAX_TEXT:  # live input is cut; a file is told
            raise PatchError(key, f"{len(value)} characters; at most {MAX_TEXT}")
        try:
            values[name] = p.check(value)
        except (ParamError, OverflowError):  # OverflowError: an int too large for a float
            raise PatchError(key, f"expected {p.expected()}, got {shown(value)}") from None
    return values


def _anchors(table: Table) -> dict[float, str]:
    """``[era.anchors]``: year -> phrase, sorted by year."""
    era = param("era")
    if len(table.data) > MAX_ANCHORS:
        raise PatchError(table.key, f"{len(table.data)} anchors; at most {MAX_ANCHORS}")
    anchors = {}
    for key, phrase in table.data.items():
        try:
            year = float(key)
            era.check(year)
        except (ValueError, ParamError):
            raise PatchError(table.at(key), f"expected a year in {era.lo:g}..{era.hi:g}") from None
        if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > MAX_PHRASE:
            raise PatchError(
                table.at(key),
                f"expected a phrase of at most {MAX_PHRASE} characters, got {shown(phrase)}",
            )
        if year in anchors:  # "1925" and "1925.0" are one year
            raise PatchError(table.at(key), f"a second anchor for {year:g}")
        anchors[year] = phrase
    return dict(sorted(anchors.items()))
