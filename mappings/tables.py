"""Reading TOML tables with errors that name the key: ``mappings[2].curve: ...``.

Every part of the mappings package parses its own table with a :class:`Table`, so the
checks live next to the concept they guard and every error carries a dotted key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from performer.params import REGISTRY, Param, ParamError


class SpecError(ValueError):
    """A patch table that cannot be used; ``key`` is dotted, like ``mappings[2].curve``."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message


def number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class Table:
    """A TOML table and where it sits in the patch."""

    def __init__(self, data: Any, key: str):
        if not isinstance(data, Mapping):
            raise SpecError(key, f"expected a table, got {data!r}")
        self.data: Mapping[str, Any] = data
        self.key = key

    def at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def only(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in self.data:
            if name not in allowed:
                raise SpecError(self.at(name), f"unknown key; expected one of {', '.join(allowed)}")

    def has(self, name: str) -> bool:
        return name in self.data

    def number(
        self,
        name: str,
        default: float | None = None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float:
        value = self.data.get(name, default)
        if value is None:
            raise SpecError(self.at(name), "required; expected a number")
        number = number_or_none(value)
        if number is None:
            raise SpecError(self.at(name), f"expected a number, got {value!r}")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise SpecError(self.at(name), f"expected a number in {lo:g}..{hi:g}, got {value!r}")
        return number

    def text(self, name: str, default: str | None = None, choices: Sequence[str] = ()) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise SpecError(self.at(name), "required; expected a string")
        if not isinstance(value, str):
            raise SpecError(self.at(name), f"expected a string, got {value!r}")
        if choices and value not in choices:
            raise SpecError(self.at(name), f"unknown {value!r}; known: {', '.join(choices)}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise SpecError(self.at(name), f"expected true or false, got {value!r}")
        return value

    def pair(self, name: str, default: tuple[float, float]) -> tuple[float, float]:
        value = self.data.get(name, list(default))
        numbers = [number_or_none(v) for v in value] if isinstance(value, list) else []
        if len(numbers) != 2 or None in numbers:
            raise SpecError(self.at(name), f"expected two numbers [from, to], got {value!r}")
        lo, hi = numbers
        assert lo is not None and hi is not None
        if lo == hi:
            raise SpecError(self.at(name), f"expected two different numbers, got {value!r}")
        return lo, hi

    def sub(self, name: str) -> Table:
        return Table(self.data.get(name, {}), self.at(name))


def parameter(name: Any, key: str) -> Param:
    """The registry entry for ``name``, or an error at ``key`` listing the known ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise SpecError(key, f"unknown parameter {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def checked(p: Param, value: Any, key: str) -> Any:
    """``value`` as ``p`` accepts it, or an error at ``key`` saying what was expected."""
    try:
        return p.check(value)
    except ParamError:
        raise SpecError(key, f"{p.name} expects {p.expected()}, got {value!r}") from None
