"""Reading a patch's TOML tables, with errors that name the key: ``mappings[2].curve: ...``.

Every part of a patch is read with a :class:`Table` (the mappings package's parts here,
the model, era and params in ``performer.patch``), so the checks live next to the concept
they guard, and every error is one :class:`PatchError` carrying a dotted key.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from performer.control.param import MAX_TEXT, Param, ParamError
from performer.control.params import REGISTRY

#: the largest magnitude a number in a patch table may have. Far beyond any range,
#: beat or rate a show uses, and small enough that sums and differences of two such
#: numbers (``hi - lo``, ``base + lfo``) stay finite: 1e308 would overflow to inf.
LIMIT = 1e12
# MAX_TEXT, the longest text a parameter holds, is also the longest a patch may hold (a
# prompt, in params, a scene or a timeline key). Live input past it is cut with a
# warning; a patch is refused, naming the key, since a file can be fixed.
#: how much of a bad value an error shows, and of a key: errors stay one short line
SHOWN = 80
MAX_MESSAGE = 400

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxstring, _repr.maxother, _repr.maxlong = 3, SHOWN, SHOWN, SHOWN
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line (control characters escaped) and at most ``limit`` long."""
    text = _CONTROL.sub(lambda m: ascii(m.group())[1:-1], str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: Any, limit: int = SHOWN) -> str:
    """``repr(value)`` short enough for an error line, even for a huge or deep value."""
    try:
        text = _repr.repr(value)
    except (ValueError, RecursionError):  # an int past Python's digit limit, say
        text = f"<{type(value).__name__} too large to show>"
    return one_line(text, limit)


class PatchError(ValueError):
    """A patch that cannot be used, on one short line: ``file: key: what was expected``.

    ``key`` is dotted, like ``mappings[2].curve``. A table does not know the file it came
    from: :func:`performer.patch.loads` names it, with :meth:`in_file`. The key and the
    message are kept to one short line whatever the data held.
    """

    def __init__(self, key: str, message: str, source: str = ""):
        self.source = one_line(source)
        self.key, self.message = one_line(key, SHOWN), one_line(message)
        where = f"{self.source}: " if self.source else ""
        super().__init__(f"{where}{self.key}: {self.message}")

    def in_file(self, source: str) -> PatchError:
        return PatchError(self.key, self.message, source)


def number_or_none(value: Any) -> float | None:
    """``value`` as a finite float, or None (not a number, NaN, inf, too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        return None
    return number if math.isfinite(number) else None


class Table:
    """A TOML table and where it sits in the patch."""

    def __init__(self, data: Any, key: str):
        if not isinstance(data, Mapping):
            raise PatchError(key, f"expected a table, got {shown(data)}")
        self.data: Mapping[str, Any] = data
        self.key = key

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def only(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in self.data:
            if name not in allowed:
                raise PatchError(
                    self.at(name), f"unknown key; expected one of {', '.join(allowed)}"
                )

    def has(self, name: str) -> bool:
        return name in self.data

    def number(
        self,
        name: str,
        default: float | None = None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float:
        """A finite number in ``lo..hi``; each bound defaults to ``LIMIT`` in magnitude."""
        value = self.data.get(name, default)
        if value is None:
            raise PatchError(self.at(name), "required; expected a number")
        number = number_or_none(value)
        if number is None:
            raise PatchError(self.at(name), f"expected a number, got {shown(value)}")
        lo = -LIMIT if lo is None else lo
        hi = LIMIT if hi is None else hi
        if not lo <= number <= hi:
            raise PatchError(
                self.at(name), f"expected a number in {lo:g}..{hi:g}, got {shown(value)}"
            )
        return number

    def text(self, name: str, default: str | None = None, choices: Sequence[str] = ()) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise PatchError(self.at(name), "required; expected a string")
        if not isinstance(value, str):
            raise PatchError(self.at(name), f"expected a string, got {shown(value)}")
        if choices and value not in choices:
            raise PatchError(self.at(name), f"unknown {shown(value)}; known: {', '.join(choices)}")
        if len(value) > MAX_TEXT:
            raise PatchError(self.at(name), f"{len(value)} characters; at most {MAX_TEXT}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise PatchError(self.at(name), f"expected true or false, got {shown(value)}")
        return value

    def pair(self, name: str, default: tuple[float, float]) -> tuple[float, float]:
        value = self.data.get(name, list(default))
        ok = isinstance(value, list) and len(value) == 2
        numbers = [number_or_none(v) for v in value] if ok else []
        if not ok or any(n is None or abs(n) > LIMIT for n in numbers):
            raise PatchError(
                self.at(name),
                f"expected two numbers [from, to] within ±{LIMIT:g}, got {shown(value)}",
            )
        lo, hi = numbers
        assert lo is not None and hi is not None
        if lo == hi:
            raise PatchError(self.at(name), f"expected two different numbers, got {shown(value)}")
        return lo, hi

    def sub(self, name: str) -> Table:
        return Table(self.data.get(name, {}), self.at(name))


def parameter(name: Any, key: str) -> Param:
    """The registry entry for ``name``, or an error at ``key`` listing the known ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise PatchError(key, f"unknown parameter {shown(name)}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def checked(p: Param, value: Any, key: str) -> Any:
    """``value`` as ``p`` accepts it, or an error at ``key`` saying what was expected."""
    if isinstance(value, str) and len(value) > MAX_TEXT:  # live input is cut; a file is told
        raise PatchError(key, f"{p.name}: {len(value)} characters; at most {MAX_TEXT}")
    try:
        return p.check(value)
    except (ParamError, OverflowError):  # OverflowError: an int too large for a float
        raise PatchError(key, f"{p.name} expects {p.expected()}, got {shown(value)}") from None


def array_of_tables(value: Any, key: str, noun: str, most: int) -> list[Table]:
    """A patch's ``[[key]]`` tables, each a :class:`Table` named ``key[i]``: refused in one
    line unless ``value`` is a list of at most ``most`` tables (``noun`` names them)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PatchError(key, f"expected [[{key}]] tables, got {shown(value)}")
    if len(value) > most:
        raise PatchError(key, f"{len(value)} {noun}; at most {most}")
    return [Table(data, f"{key}[{i}]") for i, data in enumerate(value)]
