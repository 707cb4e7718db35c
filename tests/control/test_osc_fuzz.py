"""Fuzzing the OSC router (issue 12): seeded and bounded (a few seconds).

Structured packets, built byte by byte so that nothing python-osc's builder refuses is
out of reach: every type tag (and unknown ones), hostile values and sizes, every
command address, bundles nested up to 1,000 deep with time tags from the past to the
end of NTP time. Whatever comes in, ``handle`` never fails inside, the inbox stays
within its bounds, and every event is plain JSON for the take's log.
"""

from __future__ import annotations

import json
import math
import struct
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from performer.control.clock import FakeClock
from performer.control.events import Inbox
from performer.control.osc import COMMANDS, OscRouter, encode
from performer.control.osc_sender import FeedbackSender
from performer.control.params import REGISTRY, ParamStore

INBOX_BOUND = 4096 + 1024 + 256 + 64  # continuous sources + due-now + scheduled + commands
ADDRESSES = [f"/performer/{n}" for n in [*COMMANDS, *REGISTRY]] + [
    "/1/fader1",
    "/performer/",
    "/performer/nonsense",
    "/x\x7f\x01",
    "/" + "a" * 300,
    "no-slash",
    "#bundle",
]
SENDERS = [("127.0.0.1", 50000), ("10.9.9.9", 50001), ("::ffff:127.0.0.1", 50002)]


def _pad(raw: bytes) -> bytes:
    return raw + b"\x00" * (4 - len(raw) % 4)


def _text(text: str) -> bytes:
    return _pad(text.encode("utf-8", "surrogatepass"))


# one argument: its type tag and its bytes
_ARGUMENTS = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: ("i", struct.pack(">i", v))),
    st.sampled_from([0, 1, 9001, 65535, 65536, -1]).map(lambda v: ("i", struct.pack(">i", v))),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: ("h", struct.pack(">q", v))),
    st.floats(width=32).map(lambda v: ("f", struct.pack(">f", v))),
    st.floats().map(lambda v: ("d", struct.pack(">d", v))),
    st.text(max_size=40).map(lambda v: ("s", _text(v))),
    st.sampled_from([*REGISTRY, "0", "1"]).map(lambda v: ("s", _text(v))),
    st.binary(max_size=40).map(lambda v: ("b", struct.pack(">i", len(v)) + _pad(v))),
    st.integers(-5, 2**31 - 1).map(lambda v: ("b", struct.pack(">i", v))),  # hostile size
    st.binary(min_size=4, max_size=4).map(lambda v: ("r", v)),
    st.binary(min_size=4, max_size=4).map(lambda v: ("m", v)),
    st.binary(min_size=8, max_size=8).map(lambda v: ("t", v)),
    st.sampled_from([("T", b""), ("F", b""), ("N", b""), ("[", b""), ("]", b"")]),
    st.tuples(st.characters(min_codepoint=33, max_codepoint=126), st.binary(max_size=8)),
)


# strategies built once: building them per draw costs more than the router's work
_ADDRESS = st.sampled_from(ADDRESSES) | st.text(max_size=20).map(lambda t: "/" + t)
_ARGUMENT_LISTS = st.lists(_ARGUMENTS, max_size=6)
_TENTHS = st.integers(0, 9)
_TAG_CHOICE = st.integers(0, 8)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    address = draw(_ADDRESS)
    arguments = draw(_ARGUMENT_LISTS)
    tags = "," + "".join(tag for tag, _ in arguments)
    data = _text(address) + _text(tags) + b"".join(raw for _, raw in arguments)
    if draw(_TENTHS) == 0:  # cut short
        data = data[: draw(st.integers(0, len(data)))]
    return data


_MESSAGE_LISTS = st.lists(messages(), max_size=4)
_DEPTH = st.integers(1, 12) | st.sampled_from([9, 100, 390, 1000])


def _time_tag(choice: int, now: float) -> bytes:
    seconds = {
        0: None,  # immediately
        1: 0.0,  # 1900
        2: now - 5,
        3: now + 1,
        4: now + 59,
        5: now + 61,
        6: 2_051_222_400.0,  # 2035
    }.get(choice)
    if seconds is None:
        return struct.pack(">Q", 1 if choice == 0 else 2**64 - 1)
    return struct.pack(">Q", int((seconds + 2_208_988_800) * 2**32))


def _nested(depth: int) -> bytes:
    data = encode("/performer/era", 1900.0)
    for _ in range(depth):
        data = b"#bundle\x00" + struct.pack(">Qi", 1, len(data)) + data
    return data


@st.composite
def packets(draw: st.DrawFn) -> bytes:
    if draw(_TENTHS) == 0:
        return draw(st.binary(max_size=64))
    if draw(st.booleans()):
        return draw(_MESSAGE_LISTS.map(lambda m: m[0] if m else b"/performer/tap\x00\x00"))
    now = time.time()
    depth = draw(_DEPTH)
    data = b""
    for level in range(depth):  # from the innermost out; the inner levels carry messages
        contents = [data] if data else []
        if level < 4:
            contents += draw(_MESSAGE_LISTS)
        elements = b"".join(struct.pack(">i", len(c)) + c for c in contents)
        tag = _time_tag(draw(_TAG_CHOICE) if level < 4 else 0, now)
        data = b"#bundle\x00" + tag + elements
    if draw(_TENTHS) == 0 and len(data) > 20:  # one size field lies
        at = draw(st.integers(16, len(data) - 4))
        data = (
            data[:at] + struct.pack(">i", draw(st.integers(-(2**31), 2**31 - 1))) + data[at + 4 :]
        )
    return data


@pytest.mark.slow
@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(packets(), st.sampled_from(SENDERS)), min_size=1, max_size=4))
@example([(encode("/performer/era", 1900.0), SENDERS[0])])
@example([(_nested(1000), SENDERS[0]), (_nested(390), SENDERS[1])])
def test_no_packet_breaks_the_router(sent: list[tuple[bytes, tuple[str, int]]]) -> None:
    clock = FakeClock(100.0)
    router = OscRouter(Inbox(), clock, ParamStore())
    feedback = FeedbackSender(router)
    router.store.set("prompt", "p" * 1900)
    for data, sender in sent:
        for reply, to in router.handle(data, sender):
            assert isinstance(reply, bytes) and to[0] == sender[0]
        feedback.feedback([("era", 1900.0), ("prompt", "q")], "udp:x")
        clock.advance(0.5)
    assert router.complaints.counts["internal error"] == 0
    assert router.inbox.pending() <= INBOX_BOUND
    for event in router.inbox.drain():
        json.dumps(
            [event.time, event.source, event.value, event.raw, event.origin], allow_nan=False
        )
        assert math.isfinite(event.time)
    # and the show goes on
    router.handle(encode("/performer/era", 1925.0), SENDERS[0])
    assert [(e.source, e.value) for e in router.inbox.drain()] == [("param:era", 1925.0)]


def test_a_flood_of_hostile_packets_leaves_the_inbox_bounded() -> None:
    """Without a frame loop draining it, the inbox stays within its bounds."""
    router = OscRouter(Inbox(), FakeClock(100.0), ParamStore())
    ahead = _time_tag(4, time.time())
    for i in range(6000):
        message = encode(f"/flood/{i}", float(i))
        bundle = b"#bundle\x00" + ahead + struct.pack(">i", len(message)) + message
        router.handle(bundle, SENDERS[0])
        router.handle(message, SENDERS[1])
        router.handle(encode("/performer/tap"), SENDERS[0])
    assert router.inbox.pending() <= INBOX_BOUND
    assert router.inbox.drops["scheduled"] > 0 and router.inbox.drops["command"] > 0
