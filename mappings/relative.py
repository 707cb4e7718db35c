"""Relative (endless) encoders: the byte a knob sends is a step, not a position.

Controllers disagree on how a signed step fits in 7 bits; the patch names the one its
controller speaks (``encoding = "twos-complement"``). ``decode(encoding, raw)`` gives
the signed number of detents:

=====================  ==================  ==================
encoding               +1, +2 …            −1, −2 …
=====================  ==================  ==================
``signed-bit``         1, 2 … 63           65, 66 … 127
``signed-bit-2``       65, 66 … 127        1, 2 … 63
``binary-offset``      65, 66 … 127        63, 62 … 0
``twos-complement``    1, 2 … 63           127, 126 … 64
=====================  ==================  ==================

(Names as in Ableton Live's MIDI map modes: Signed Bit, Signed Bit 2, Bin Offset,
Two's Complement; Bitwig and Mixxx use the same layouts.)
"""

from __future__ import annotations

from collections.abc import Callable


def _signed_bit(raw: int) -> int:
    return -(raw & 0x3F) if raw & 0x40 else raw & 0x3F


def _signed_bit_2(raw: int) -> int:
    return -_signed_bit(raw)


def _binary_offset(raw: int) -> int:
    return raw - 64


def _twos_complement(raw: int) -> int:
    return raw - 128 if raw & 0x40 else raw


DECODERS: dict[str, Callable[[int], int]] = {
    "signed-bit": _signed_bit,
    "signed-bit-2": _signed_bit_2,
    "binary-offset": _binary_offset,
    "twos-complement": _twos_complement,
}
ENCODINGS = ("absolute", *DECODERS)


def decode(encoding: str, raw: int) -> int:
    """The signed detent count of one relative message."""
    try:
        decoder = DECODERS[encoding]
    except KeyError:
        raise ValueError(f"unknown encoding {encoding!r}; known: {', '.join(DECODERS)}") from None
    if not 0 <= raw <= 127:
        raise ValueError(f"a relative encoder sends 0..127, got {raw}")
    return decoder(raw)
