"""One parameter of the instrument: its name, kind, range, default, unit and meaning,
and how a value is checked (files, the command line) or clamped (live input).

Every parameter is declared in :mod:`performer.control.params`, the registry.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

from performer.control.throttle import Throttle

Kind = Literal["float", "int", "str"]

# The longest text a parameter holds. A prompt reaches the log, OSC feedback and
# OSCQuery, and is encoded by the model (CLIP reads 77 tokens, ~300 characters; the
# embedded model only a few words): 2,000 characters is ample for a performer's text,
# and keeps one message from costing megabytes downstream.
MAX_TEXT = 2000

log = logging.getLogger(__name__)
_cut_warnings = Throttle(1.0)


class ParamError(ValueError):
    """A value that a parameter cannot take."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: Any
    lo: float | None = None
    hi: float | None = None
    unit: str = ""
    doc: str = ""
    live: bool = True  # False: read once at start (changing it needs a restart)

    @property
    def address(self) -> str:
        return f"/performer/{self.name}"

    def expected(self) -> str:
        """What this parameter accepts, in words, for error messages."""
        if self.kind == "str":
            return "a string"
        if self.kind == "int":
            return f"an integer in {self.lo:.0f}..{self.hi:.0f}"
        return f"a number in {self.lo:g}..{self.hi:g}"

    def check(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type; raise ParamError if it is out of range
        (or text longer than MAX_TEXT: a file or a command line is told, not cut)."""
        if self.kind == "str" and isinstance(value, str) and len(value) > MAX_TEXT:
            raise ParamError(f"{self.name}: {len(value)} characters; at most {MAX_TEXT}")
        value = self._coerce(value)
        if self.kind != "str" and not (self.lo <= value <= self.hi):
            raise ParamError(f"{self.name}: expected {self.expected()}, got {_short(value)}")
        return value

    def clamp(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type, clamped into range (live input:
        text past MAX_TEXT is cut, with a warning once a second per parameter)."""
        value = self._coerce(value)
        if self.kind == "str":
            if len(value) > MAX_TEXT:
                _cut_warnings.log(
                    log,
                    logging.WARNING,
                    f"long text:{self.name}",
                    "%s: %d characters cut to the first %d",
                    self.name,
                    len(value),
                    MAX_TEXT,
                )
                value = value[:MAX_TEXT]
            return value
        assert self.lo is not None and self.hi is not None
        clamped = min(max(value, self.lo), self.hi)
        return int(clamped) if self.kind == "int" else float(clamped)

    def _coerce(self, value: Any) -> Any:
        if self.kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"{self.name}: expected a string, got {_short(value)}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"{self.name}: expected {self.expected()}, got {_short(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{self.name}: expected a finite number, got {_short(value)}")
        if self.kind == "int":
            if value != int(value):
                raise ParamError(f"{self.name}: expected an integer, got {_short(value)}")
            return int(value)
        try:
            return float(value)
        except OverflowError:  # an int past float's range (about 1e308)
            raise ParamError(
                f"{self.name}: expected a finite number, got {_short(value)}"
            ) from None


def _short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut short: an error line must stay one readable line."""
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python will print
        return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"
