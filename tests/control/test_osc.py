"""OSC: protocol logic from byte strings, then a real UDP server on loopback."""

from __future__ import annotations

import math
import random
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest
from performer.control.allow import AllowList
from performer.control.clock import FakeClock, MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.osc_sender import FeedbackSender
from performer.control.osc_server import OscServer
from performer.control.params import ParamStore
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage

ME = ("127.0.0.1", 50000)


@pytest.fixture
def router() -> OscRouter:
    return OscRouter(Inbox(), FakeClock(10.0), ParamStore())


def events(router: OscRouter) -> list[tuple[str, object]]:
    return [(e.source, e.value) for e in router.inbox.drain()]


def test_parameters_from_ints_floats_doubles_and_booleans(router: OscRouter) -> None:
    router.handle(encode("/performer/era", 1925), ME)
    router.handle(encode("/performer/timestep", 0.25), ME)
    router.handle(encode("/performer/guidance", True), ME)
    assert sorted(events(router)) == [
        ("param:era", 1925.0),
        ("param:guidance", 1.0),
        ("param:timestep", 0.25),
    ]
    double = b"/performer/zoom\x00,d\x00\x00" + np.array([1.5], ">f8").tobytes()
    router.handle(double, ME)
    assert events(router) == [("param:zoom", 1.5)]


def test_prompt_strings_are_joined(router: OscRouter) -> None:
    router.handle(encode("/performer/prompt", "a", "harbour", "at night"), ME)
    assert events(router) == [("param:prompt", "a harbour at night")]


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        (encode("/performer/era", math.nan), "rejected value"),
        (encode("/performer/era", math.inf), "rejected value"),
        (encode("/performer/era", "soon"), "rejected value"),
        (encode("/performer/era", 1900, 1950), "wrong type"),
        (encode("/performer/nonsense", 1), "unknown address"),
        (b"\x00\x01garbage", "malformed packet"),
        (b"/performer/era\x00\x00,i\x00\x00\x01", "malformed packet"),
    ],
)
def test_bad_input_is_counted_and_never_reaches_the_model(
    router: OscRouter, message: bytes, complaint: str
) -> None:
    router.handle(message, ME)
    assert events(router) == []
    assert router.complaints.counts[complaint] == 1


def test_out_of_range_is_clamped_and_counted(router: OscRouter) -> None:
    router.handle(encode("/performer/era", 3000.0), ME)
    assert events(router) == [("param:era", 2030.0)]
    assert router.complaints.counts["clamped value"] == 1


def test_bundles_apply_together_at_their_time_tag(router: OscRouter) -> None:
    bundle = OscBundleBuilder(time.time() + 2.0)  # two seconds ahead
    bundle.add_content(OscMessage(encode("/performer/era", 1850)))
    bundle.add_content(OscMessage(encode("/performer/timestep", 0.9)))
    router.handle(bundle.build().dgram, ME)
    assert router.inbox.drain(now=10.0) == [], "not due yet"
    (event,) = router.inbox.drain(now=12.5)
    assert event.source == "bundle"
    assert dict(event.value) == {"param:era": 1850.0, "param:timestep": pytest.approx(0.9)}
    assert event.time == pytest.approx(12.0, abs=0.1)


def test_commands_and_foreign_addresses(router: OscRouter) -> None:
    router.handle(encode("/performer/learn", "era"), ME)
    router.handle(encode("/performer/scene", 3), ME)
    router.handle(encode("/performer/tap"), ME)
    router.handle(encode("/performer/record/start"), ME)
    router.handle(encode("/1/fader4", 0.5), ME)
    assert sorted(events(router)) == [
        ("learn", "era"),
        ("osc:/1/fader4", 0.5),
        ("record/start", True),
        ("scene", 3),
        ("tap", True),
    ]


def test_get_replies_and_hello_pushes_full_state(router: OscRouter) -> None:
    router.store.set("era", 1977)
    ((reply, to),) = router.handle(encode("/performer/get", "era"), ME)
    assert to == ME and OscMessage(reply).params == [1977.0]
    state = router.handle(encode("/performer/hello", 9001), ME)
    assert {to for _, to in state} == {("127.0.0.1", 9001)}
    assert len(state) == len(router.state_messages())


def test_feedback_skips_the_controller_that_made_the_change(router: OscRouter) -> None:
    sender = FeedbackSender(router)
    router.handle(encode("/performer/hello", 9001), ("127.0.0.1", 50001))
    router.handle(encode("/performer/hello", 9002), ("127.0.0.1", 50002))
    out = sender.feedback([("era", 1900.0)], origin="udp:127.0.0.1:50001")
    assert [to for _, to in out] == [("127.0.0.1", 9002)]


@pytest.mark.slow
def test_fuzzed_datagrams_never_crash_the_router(router: OscRouter) -> None:
    rng = random.Random(7)
    seeds = [
        encode("/performer/era", 1900.0),
        encode("/performer/prompt", "x"),
        OscBundleBuilder(1).build().dgram,
    ]
    for _ in range(100_000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.4 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif op < 0.7:
                data = data[: rng.randrange(len(data) + 1)]
            else:
                data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.05:
            data = bytearray(rng.randbytes(rng.randint(0, 64)))
        router.handle(bytes(data), ME)
    assert sum(router.complaints.counts.values()) > 1000
    for event in router.inbox.drain():  # whatever got through is valid
        if event.source.startswith("param:") and isinstance(event.value, float):
            assert math.isfinite(event.value)


@pytest.fixture
def server() -> Iterator[OscServer]:
    store = ParamStore()
    with OscServer(OscRouter(Inbox(), MonotonicClock(), store), port=0) as srv:
        yield srv


def test_binds_to_loopback_by_default(server: OscServer) -> None:
    assert server.address[0] == "127.0.0.1"


@pytest.mark.slow
def test_real_udp_round_trip_and_a_flood(server: OscServer) -> None:
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    client.sendto(encode("/performer/get", "timestep"), server.address)
    reply, _ = client.recvfrom(1024)
    assert OscMessage(reply).params == [pytest.approx(0.6)]
    for i in range(10_000):
        client.sendto(encode("/performer/era", 1840.0 + i * 0.01), server.address)
    received = -1
    while server.received != received:  # UDP may drop part of a flood; wait for the rest
        received = server.received
        time.sleep(0.2)
    client.sendto(encode("/performer/era", 1999.0), server.address)
    deadline = time.monotonic() + 5
    while server.received == received and time.monotonic() < deadline:
        time.sleep(0.001)
    client.close()
    drained = server.router.inbox.drain()
    assert len(drained) <= 2, "a flood coalesces to the latest value per parameter"
    assert [e.value for e in drained if e.source == "param:era"][-1] == 1999.0


def test_allow_list_drops_other_senders() -> None:
    router = OscRouter(Inbox(), MonotonicClock(), ParamStore())
    exact = AllowList.parse(["10.9.9.9"], trust_loopback=False)  # 127.0.0.1 is trusted else
    with OscServer(router, port=0, allow=exact) as srv:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(encode("/performer/era", 1900.0), srv.address)
        deadline = time.monotonic() + 5
        while router.complaints.counts["sender not allowed"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        client.close()
    assert router.inbox.drain() == []
    assert router.complaints.counts["sender not allowed"] == 1


def test_port_in_use_is_a_clear_error(server: OscServer) -> None:
    other = OscServer(server.router, port=server.address[1])
    with pytest.raises(OSError, match=r"cannot listen for OSC on 127\.0\.0\.1:\d+: .*--osc-port"):
        other.start()
