"""OSC packets into timed messages, with bounds a hostile datagram cannot pass, and
messages into bytes (:func:`encode`).

python-osc parses bundles by recursion (a bundle nested ~390 deep, 7.8 KB, raised
RecursionError), trusts each element's size (a size of -4 loops forever on a 20-byte
packet), reads strings a byte at a time (3.5 ms for one 64 KB string) and logs a
warning for each type tag it does not know. Here bundles are walked iteratively with
every size checked, nesting is bounded, and messages are decoded here too: numbers,
booleans and text only, the arguments that can become events. A message with any
other argument (blob, time tag, MIDI, nil, array, or a tag nobody knows) is marked
refused, with why, and the rest of its bundle still counts.

``MAX_DEPTH`` is 8: the OSC clients a performer uses (TouchOSC, Max, Pure Data,
TouchDesigner, liblo, SuperCollider) send flat bundles or bundles one level deep; 8
leaves room for a scheduler that wraps bundles in bundles, and no more, since deeper
packets only show up as attacks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

BUNDLE = b"#bundle\x00"
IMMEDIATELY = 0.0  # the time of a message that is not in a time-tagged bundle
MAX_DEPTH = 8  # bundles inside bundles (see the module docstring for why 8)
MAX_MESSAGES = 256  # messages in one packet: a TouchOSC page or a TouchDesigner row
# OSC 1.0/1.1 tags that are known but never become events (blob, time tag, MIDI, ...)
REFUSED_TAGS = frozenset("btmNI[]c")
_NTP_IMMEDIATELY = b"\x00\x00\x00\x00\x00\x00\x00\x01"
_NTP_TO_UNIX = 2_208_988_800  # seconds from 1900 (NTP's epoch) to 1970


@dataclass(frozen=True)
class Message:
    address: str
    params: list[Any] = field(default_factory=list)
    refused: str = ""  # the kind of problem when an argument cannot become an event
    why: str = ""


class PacketError(ValueError):
    """A packet refused; ``kind`` names the problem for counting (Complaints)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


def unpack(data: bytes) -> list[tuple[float, Message]]:
    """The messages of one datagram, each with its time tag (Unix seconds, or
    :data:`IMMEDIATELY`); a nested bundle is never due before the one around it."""
    if not data.startswith(BUNDLE):
        return [(IMMEDIATELY, _message(data))]
    messages: list[tuple[float, Message]] = []
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


def _message(data: bytes) -> Message:
    if not data.startswith(b"/"):
        raise PacketError("malformed packet", "neither a message nor a bundle")
    address, index = _string(data, 0)
    if index >= len(data):
        return Message(address)
    if data[index : index + 1] != b",":
        raise PacketError("malformed packet", "type tags must start with a comma")
    tags, index = _string(data, index)
    values: list[Any] = []
    for tag in tags[1:]:
        if tag in "ifr":  # r: an RGBA colour, as one 32-bit number
            value = struct.unpack_from(_FORMATS[tag], data, _need(data, index, 4))[0]
            index += 4
        elif tag in "hd":
            value = struct.unpack_from(_FORMATS[tag], data, _need(data, index, 8))[0]
            index += 8
        elif tag in "sS":
            value, index = _string(data, index)
        elif tag in "TF":
            value = tag == "T"
        else:  # its size may be unknown: the rest of this message cannot be read
            kind = "unsupported argument" if tag in REFUSED_TAGS else "unsupported type tag"
            return Message(address, values, kind, f"type tag {tag!r} after {len(values)} values")
        values.append(value)
    return Message(address, values)


_FORMATS = {"i": ">i", "f": ">f", "r": ">I", "h": ">q", "d": ">d"}


def _need(data: bytes, index: int, size: int) -> int:
    if index + size > len(data):
        raise PacketError("malformed packet", "a message cut short")
    return index


def _string(data: bytes, index: int) -> tuple[str, int]:
    """An OSC string at ``index`` (NUL-ended, padded to 4 bytes) and the index after it."""
    end = data.find(b"\x00", index)
    if end < 0:
        raise PacketError("malformed packet", "a string without its end")
    after = index + ((end - index) // 4 + 1) * 4
    if after > len(data):
        raise PacketError("malformed packet", "a string cut short")
    try:
        return data[index:end].decode("utf-8"), after
    except UnicodeDecodeError:
        raise PacketError("malformed packet", "a string that is not UTF-8") from None


def encode(address: str, *values: Any) -> bytes:
    """One OSC message as bytes (floats are sent as 32-bit floats, integers as 32-bit
    ones when they fit). Written here: python-osc's builder parses its own output
    again, a byte at a time, which made feedback of a prompt cost a millisecond."""
    tags, payload = [","], []
    for value in values:
        if isinstance(value, bool):
            tags.append("T" if value else "F")
        elif isinstance(value, int) and -(2**31) <= value < 2**31:
            tags.append("i")
            payload.append(struct.pack(">i", value))
        elif isinstance(value, int):
            tags.append("h")
            payload.append(struct.pack(">q", value))
        elif isinstance(value, float):
            tags.append("f")
            payload.append(struct.pack(">f", value))
        elif isinstance(value, str):
            tags.append("s")
            payload.append(_osc_string(value))
        else:  # blobs, lists, None: the library's builder knows them all
            builder = OscMessageBuilder(address=address)
            for v in values:
                builder.add_arg(v)
            return builder.build().dgram
    return _osc_string(address) + _osc_string("".join(tags)) + b"".join(payload)


def _osc_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return raw + b"\x00" * (4 - len(raw) % 4)
