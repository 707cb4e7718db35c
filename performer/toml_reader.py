"""Reading a TOML file that may be hostile: bounded in bytes and in nesting.

A patch (or a take's copy of one) comes from anywhere. Python's TOML parser is pure
Python and recursive, so a huge file costs minutes and gigabytes, and deep nesting
runs out of the recursion limit; both are refused here in one
:class:`~performer.mappings.tables.PatchError` line naming the key (the caller names
the file).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from performer.mappings.tables import PatchError

#: a patch is written by hand: the largest shipped one is 5 KB. A bound on the file
#: keeps a hostile one from costing the parser (pure Python) minutes and gigabytes.
MAX_BYTES = 1 << 20
#: how deep arrays and tables may nest. The deepest a patch needs is 4
#: (``timelines.<track>.keys[i][j]``); past a few hundred, the parser and ``repr``
#: run out of Python's recursion limit.
MAX_DEPTH = 16


def read(path: Path) -> str:
    """The file's text, read no further than one byte past ``MAX_BYTES``.
    FileNotFoundError is left to the caller, which knows where it looked."""
    try:
        with path.open("rb") as f:
            # at most one byte past the bound: a 10 GB file (or /dev/zero) is refused
            # after 1 MB read, not after all of it is in memory
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise PatchError("file", f"cannot read it ({exc})") from None
    if len(data) > MAX_BYTES:
        raise PatchError("file", f"larger than {MAX_BYTES} bytes; not a patch")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatchError("file", f"cannot read it ({exc})") from None


def parse(text: str) -> dict[str, Any]:
    """The tables ``text`` holds, nested at most ``MAX_DEPTH`` deep."""
    if len(text) > MAX_BYTES:
        raise PatchError("file", f"{len(text)} characters; a patch is at most {MAX_BYTES}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PatchError("toml", f"not valid TOML ({exc})") from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise PatchError(_deep_key(text), f"nested too deep; at most {MAX_DEPTH}") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise PatchError("toml", f"not usable TOML ({exc})") from None
    _check_depth(data)
    return data


def _check_depth(data: Mapping[str, Any]) -> None:
    """Reject nesting past ``MAX_DEPTH``, naming the key where it goes too deep."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:  # by hand, not recursion: the point is to stay off the recursion limit
        value, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PatchError(key, f"nested too deep; at most {MAX_DEPTH}")
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
