"""What shaped the picture besides the model: the generator's conditioning as played.

``take.json`` records, under ``"conditioning"``, the keyword arguments of
:func:`~performer.generators.load_generator` that change the picture (the fused and
the live LoRAs, the ControlNets, the IP-Adapter, the tiny VAE, ...:
:func:`performer.run.conditioning` makes them), so ``performer render TAKE`` builds the
generator the take played::

    "conditioning": {"lora": null, "loras": [["/home/me/ink.safetensors", "ink"]],
                     "controlnets": [["/home/me/controlnets/canny", "canny"]],
                     "control_image": null, "ip_adapter": "h94/IP-Adapter", ...}

Each value is null, a text, or a list of pairs of texts (a source and a name). A
file or folder is written as played, as an absolute path (:func:`as_played`), so the
take still finds it after the take's folder moves; an id stays an id. Takes from
before the record have none and replay with what the command line gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from performer.take.format import INFO, TakeError, short

MAX_SOURCE = 4096  # a Hugging Face id or a path
MAX_PAIRS = 16  # sources of one kind (a patch has at most 8 LoRAs)


def as_played(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every source that is a file or folder here as an absolute path
    (the first of each pair is its source; a ControlNet's ``depth:MODEL`` names one too),
    and pairs as lists, as JSON holds them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list | tuple):
            out[key] = [[absolute(source), _model(name)] for source, name in value]
        else:
            out[key] = absolute(value) if isinstance(value, str) else value
    return out


def _model(name: str) -> str:
    """A pair's name, its ``depth:MODEL`` folder as an absolute path when it is one here."""
    kind, colon, model = name.partition(":")
    return f"{kind}:{absolute(model)}" if kind == "depth" and colon else name


def absolute(source: str) -> str:
    """``source`` as an absolute path when it is a file or folder here; else as it is
    (a Hugging Face id)."""
    path = Path(source).expanduser()
    return str(path.resolve()) if source and path.exists() else source


def recorded(info: Mapping[str, Any], folder: Path, known: Mapping[str, Any]) -> dict[str, Any]:
    """The conditioning a take's ``take.json`` records, as keyword arguments (pairs as
    tuples); ``{}`` for a take from before the record. A key this version does not know
    (``known``: what it would record), or a value of another shape than ``known``'s (a
    list of pairs, or null or a text), is a :class:`TakeError`."""
    record = info.get("conditioning")
    if record is None:
        return {}
    where = f"{folder / INFO}: 'conditioning'"
    if not isinstance(record, dict):
        raise TakeError(f"{where} must be a table, got {short(record)}")
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key not in known:
            raise TakeError(f"{where}: {short(key)} is not known here; known: {sorted(known)}")
        out[key] = _value(value, f"{where}.{key}", isinstance(known[key], list | tuple))
    return out


def _value(value: Any, where: str, pairs: bool) -> Any:
    if not pairs and (value is None or _is_source(value)):
        return value
    if pairs and isinstance(value, list) and len(value) <= MAX_PAIRS and all(map(_is_pair, value)):
        return [tuple(v) for v in value]
    expected = "a list of [source, name]" if pairs else "null or a text"
    raise TakeError(f"{where} must be {expected}, got {short(value)}")


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(map(_is_source, value))


def _is_source(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_SOURCE and "\0" not in value


def gone(values: Mapping[str, Any]) -> list[str]:
    """The files and folders ``values`` names by an absolute path that are not there."""
    sources: list[str] = []
    for value in values.values():
        if isinstance(value, str):
            sources.append(value)
        elif isinstance(value, list | tuple):
            for source, name in value:
                sources.append(source)
                if name.startswith("depth:"):
                    sources.append(name.removeprefix("depth:"))
    return [s for s in sources if Path(s).is_absolute() and not Path(s).exists()]
