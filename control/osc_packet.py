"""OSC packets into timed messages, with bounds a hostile datagram cannot pass.

python-osc parses bundles by recursion (a bundle nested ~390 deep, 7.8 KB, raised
RecursionError) and trusts each element's size (a size of -4 loops forever on a
20-byte packet). Here bundles are walked iteratively with every size checked, nesting
is bounded, and messages are handed to python-osc's :class:`OscMessage` (which has no
recursion) only once their type tags are known to be ones it parses.

``MAX_DEPTH`` is 8: the OSC clients a performer uses (TouchOSC, Max, Pure Data,
TouchDesigner, liblo, SuperCollider) send flat bundles or bundles one level deep; 8
leaves room for a scheduler that wraps bundles in bundles, and no more, since deeper
packets only show up as attacks.
"""

from __future__ import annotations

import struct

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message import ParseError as MessageError

BUNDLE = b"#bundle\x00"
IMMEDIATELY = 0.0  # the time of a message that is not in a time-tagged bundle
MAX_DEPTH = 8  # bundles inside bundles (see the module docstring for why 8)
MAX_MESSAGES = 256  # messages in one packet: a TouchOSC page or a TouchDesigner row
# the type tags python-osc parses (others it skips with a warning, misreading the rest)
TYPE_TAGS = frozenset("ihfdsbrmtTFN[]")
_NTP_IMMEDIATELY = b"\x00\x00\x00\x00\x00\x00\x00\x01"
_NTP_TO_UNIX = 2_208_988_800  # seconds from 1900 (NTP's epoch) to 1970


class PacketError(ValueError):
    """A packet refused; ``kind`` names the problem for counting (Complaints)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


def unpack(data: bytes) -> list[tuple[float, OscMessage]]:
    """The messages of one datagram, each with its time tag (Unix seconds, or
    :data:`IMMEDIATELY`); a nested bundle is never due before the one around it."""
    if not data.startswith(BUNDLE):
        return [(IMMEDIATELY, _message(data))]
    messages: list[tuple[float, OscMessage]] = []
    # (start, end, time tag, depth) of the bundles still to read: a stack, not recursion
    todo = [(0, len(data), IMMEDIATELY, 1)]
    while todo:
        start, end, outer, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise PacketError("bundle too deep", f"bundles nested more than {MAX_DEPTH} deep")
        if end - start < len(BUNDLE) + 8:
            raise PacketError("malformed packet", "a bundle without its time tag")
        when = max(outer, _time_tag(data[start + 8 : start + 16]))
        elements: list[tuple[int, int]] = []
        index = start + 16
        while index < end:
            if index + 4 > end:
                raise PacketError("malformed packet", "a bundle element cut short")
            (size,) = struct.unpack_from(">i", data, index)
            index += 4
            if size <= 0 or size % 4 or index + size > end:
                raise PacketError("malformed packet", f"a bundle element of {size} bytes")
            elements.append((index, index + size))
            index += size
        # kept in packet order: the stack is popped from the end
        for first, last in reversed(elements):
            if data.startswith(BUNDLE, first):
                todo.append((first, last, when, depth + 1))
            else:
                messages.append((when, _message(data[first:last])))
                if len(messages) > MAX_MESSAGES:
                    raise PacketError(
                        "bundle too large", f"more than {MAX_MESSAGES} messages in one packet"
                    )
    return messages


def _time_tag(raw: bytes) -> float:
    if raw == _NTP_IMMEDIATELY:
        return IMMEDIATELY
    (tag,) = struct.unpack(">Q", raw)  # seconds since 1900, as 32.32 fixed point
    return tag / 2**32 - _NTP_TO_UNIX


def _message(data: bytes) -> OscMessage:
    if not data.startswith(b"/"):
        raise PacketError("malformed packet", "neither a message nor a bundle")
    tags = _type_tags(data)
    unknown = set(tags) - TYPE_TAGS
    if unknown:
        raise PacketError("unsupported type tag", f"type tags {''.join(sorted(unknown))!r}")
    try:
        return OscMessage(data)
    except (MessageError, ValueError, IndexError, struct.error, OverflowError) as exc:
        raise PacketError("malformed packet", str(exc)[:120]) from None


def _type_tags(data: bytes) -> str:
    """The type tag string after the address ('' for a message with no arguments)."""
    end = data.find(b"\x00")
    if end < 0:
        raise PacketError("malformed packet", "an address without its end")
    start = (end // 4 + 1) * 4
    if start >= len(data):
        return ""
    if data[start : start + 1] != b",":
        raise PacketError("malformed packet", "type tags must start with a comma")
    stop = data.find(b"\x00", start)
    if stop < 0:
        raise PacketError("malformed packet", "type tags without their end")
    return data[start + 1 : stop].decode("latin-1")
