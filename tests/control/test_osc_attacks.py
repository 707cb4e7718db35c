"""OSC under attack (issue 12, items 2, 3, 6, 8 and 9): byte strings a hostile neighbour
could send, through the real router, inbox and parameter store."""

from __future__ import annotations

import json
import logging
import struct
import threading
import time

import pytest
from performer.control.clock import FakeClock
from performer.control.events import Event, Inbox
from performer.control.osc import OscRouter, encode
from performer.control.osc_packet import MAX_DEPTH
from performer.control.osc_sender import FeedbackSender
from performer.control.params import ParamStore
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage

ME = ("127.0.0.1", 50000)
FAR = ("10.9.9.9", 50000)  # not this machine: its replies are bound to what it sent
COMMANDS = [
    encode("/performer/record/stop"),
    encode("/performer/scene", 2),
    encode("/performer/tap"),
    encode("/performer/learn", "era"),
    encode("/performer/probe"),
]


@pytest.fixture
def router() -> OscRouter:
    return OscRouter(Inbox(), FakeClock(10.0), ParamStore())


def nested(depth: int, message: bytes = encode("/performer/era", 1900.0)) -> bytes:
    """A bundle ``depth`` deep with one message at the bottom."""
    data = message
    for _ in range(depth):
        data = b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", len(data)) + data
    return data


def bundle(at: float, *messages: bytes) -> bytes:
    builder = OscBundleBuilder(at)
    for message in messages:
        builder.add_content(OscMessage(message))
    return builder.build().dgram


def clock_of(router: OscRouter) -> FakeClock:
    assert isinstance(router.clock, FakeClock)
    return router.clock


# item 2: one datagram turned OSC off --------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 390, 1000, 4000])
def test_deeply_nested_bundles_are_refused_and_counted(router: OscRouter, depth: int) -> None:
    assert router.handle(nested(depth), ME) == []  # python-osc raised RecursionError here
    assert router.complaints.counts["bundle too deep"] == 1
    assert router.inbox.drain() == []
    router.handle(encode("/performer/era", 1925.0), ME)  # and OSC still plays
    assert [(e.source, e.value) for e in router.inbox.drain()] == [("param:era", 1925.0)]


def test_bundles_nested_within_the_bound_are_applied(router: OscRouter) -> None:
    router.handle(nested(MAX_DEPTH), ME)
    (event,) = router.inbox.drain()
    assert event.value == (("param:era", 1900.0),)


def test_a_negative_element_size_does_not_hang_the_router(router: OscRouter) -> None:
    # 20 bytes on which python-osc's bundle parser loops forever (size -4 goes back 4)
    data = b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", -4) + b"/a\x00\x00"
    done = threading.Event()
    worker = threading.Thread(target=lambda: (router.handle(data, ME), done.set()), daemon=True)
    worker.start()
    assert done.wait(5), "the router hung on one packet"
    assert router.complaints.counts["malformed packet"] == 1


class _BrokenInbox(Inbox):
    """An inbox with a bug: the router must survive whatever its collaborators raise."""

    def put(self, event: Event, coalesce: bool = True, *, scheduled: bool = False) -> None:
        raise RuntimeError("a bug downstream")


def test_handle_never_raises_even_on_a_bug_downstream(caplog: pytest.LogCaptureFixture) -> None:
    router = OscRouter(_BrokenInbox(), FakeClock(), ParamStore())
    with caplog.at_level(logging.WARNING, logger="performer.control.osc"):
        for _ in range(50):
            assert router.handle(encode("/performer/era", 1900.0), ME) == []
    assert router.complaints.counts["internal error"] == 50
    lines = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert len(lines) == 1 and "RuntimeError: a bug downstream" in lines[0].getMessage()


# item 3: future-dated bundles blocked every command -----------------------------------


def test_bundles_due_beyond_a_minute_are_refused(router: OscRouter) -> None:
    in_2035 = 2_051_222_400.0
    for _ in range(2000):
        router.handle(bundle(in_2035, encode("/performer/era", 1850)), ME)
    assert router.complaints.counts["bundle too far ahead"] == 2000
    assert router.inbox.pending() == 0


def test_scheduled_bundles_cannot_starve_commands(router: OscRouter) -> None:
    ahead = time.time() + 50  # within the bound: each one is accepted until the part fills
    for _ in range(2000):
        router.handle(bundle(ahead, encode("/performer/era", 1850)), ME)
    for command in COMMANDS:
        router.handle(command, ME)
    router.handle(bundle(IMMEDIATELY, encode("/performer/zoom", 1.1)), ME)
    got = {e.source for e in router.inbox.drain(now=10.5)}
    assert got == {"record/stop", "scene", "tap", "learn", "probe", "bundle"}
    assert router.inbox.drops["scheduled"] > 0 and router.inbox.drops["discrete"] == 0


def test_immediate_bundles_cannot_starve_commands(router: OscRouter) -> None:
    """At --fps 10, ten thousand immediate bundles a second come between two drains."""
    for _ in range(3000):
        router.handle(bundle(IMMEDIATELY, encode("/performer/era", 1850)), ME)
    for command in COMMANDS:
        router.handle(command, ME)
    events = router.inbox.drain(now=10.0)
    got = {e.source for e in events}
    assert {"record/stop", "scene", "tap", "learn", "probe"} <= got
    assert router.inbox.drops["discrete"] > 0 and router.inbox.drops["command"] == 0
    assert [e.time for e in events] == sorted(e.time for e in events)


def test_commands_drain_in_time_order_with_everything_else() -> None:
    inbox = Inbox(max_discrete=2, max_commands=2)
    inbox.put(Event(3.0, "bundle", 0), coalesce=False)
    inbox.put(Event(1.0, "tap", True), command=True)
    inbox.put(Event(2.0, "param:era", 1900.0))
    inbox.put(Event(1.0, "bundle", 1), coalesce=False)
    inbox.put(Event(0.5, "bundle", 2), coalesce=False)  # the bundles' part is full
    inbox.put(Event(4.0, "scene", 2), command=True)
    inbox.put(Event(5.0, "probe", True), command=True)  # the commands' part is full
    assert [e.source for e in inbox.drain(now=3.5)] == ["tap", "bundle", "param:era", "bundle"]
    assert [e.source for e in inbox.drain()] == ["scene"]
    assert inbox.drops == {"discrete": 1, "command": 1}
    assert inbox.pending() == 0


def test_a_fast_sender_clock_is_named_as_the_likely_cause(
    router: OscRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="performer.control.osc"):
        router.handle(bundle(time.time() + 75, encode("/performer/era", 1850)), ME)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "bundle due 75 s ahead: more than 60 s" in line
    assert "is the sender's clock ahead of this machine's?" in line
    assert router.inbox.pending() == 0


def test_a_sooner_bundle_displaces_the_one_due_last() -> None:
    inbox = Inbox(max_scheduled=4)
    for i in range(4):
        inbox.put(Event(100.0 + i, "bundle", i), coalesce=False, scheduled=True)
    inbox.put(Event(50.0, "bundle", "cue"), coalesce=False, scheduled=True)
    inbox.put(Event(200.0, "bundle", "late"), coalesce=False, scheduled=True)
    assert [e.value for e in inbox.drain()] == ["cue", 0, 1, 2]
    assert inbox.drops["scheduled"] == 2


def test_inbox_drops_are_counted_by_kind_and_logged_once_a_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    inbox = Inbox(max_sources=2, max_discrete=2, clock=clock.now)
    with caplog.at_level(logging.WARNING, logger="performer.control.events"):
        for i in range(100):
            inbox.put(Event(0.0, "tap", i), coalesce=False)
            inbox.put(Event(0.0, f"osc:/{i}", i))
        clock.advance(1.0)
        inbox.put(Event(0.0, "tap", "one more"), coalesce=False)
    assert inbox.drops == {"discrete": 99, "continuous": 98}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # one per kind per second
    assert "inbox full: dropped a discrete event" in lines[0]
    assert "97 more lines left out" in lines[2]


# item 6: a blob broke the take's log ---------------------------------------------------

HOSTILE_ARGUMENTS = {
    "blob": b"/x\x00\x00,b\x00\x00\x00\x00\x00\x03abc\x00",
    "time tag": b"/x\x00\x00,t\x00\x00" + struct.pack(">Q", 1 << 32),
    "midi": b"/x\x00\x00,m\x00\x00\x00\x90\x40\x7f",
    "nil": b"/x\x00\x00,N\x00\x00",
    "array": b"/x\x00\x00,[i]\x00\x00\x00\x00" + struct.pack(">i", 1),
}


@pytest.mark.parametrize("kind", HOSTILE_ARGUMENTS)
def test_arguments_that_are_not_plain_data_are_refused(router: OscRouter, kind: str) -> None:
    data = HOSTILE_ARGUMENTS[kind]
    router.handle(data, ME)
    router.handle(bundle(IMMEDIATELY, data, encode("/y", 0.5)), ME)
    events = router.inbox.drain()
    assert [(e.source, e.value) for e in events] == [("bundle", (("osc:/y", 0.5),))]
    assert router.complaints.counts["unsupported argument"] == 2
    for command in ("/performer/get", "/performer/learn", "/performer/scene"):
        router.handle(data.replace(b"/x\x00\x00", command.encode().ljust(20, b"\x00")), ME)
    assert router.inbox.drain() == [] and router.complaints.counts["internal error"] == 0


def test_every_plain_event_is_json(router: OscRouter) -> None:
    router.handle(encode("/a", 1, 2.5, "text", True), ME)
    router.handle(encode("/b", "é"), ME)
    for event in router.inbox.drain():
        json.dumps([event.time, event.source, event.value, event.origin], allow_nan=False)


# item 8: hello ------------------------------------------------------------------------


def test_a_registration_expires_a_minute_after_its_sender_was_last_heard(
    router: OscRouter,
) -> None:
    sender = FeedbackSender(router)
    router.handle(encode("/performer/hello", 9001), ME)
    clock_of(router).advance(50)
    router.handle(encode("/performer/era", 1900.0), ME)  # any message renews it
    clock_of(router).advance(50)
    assert [to for _, to in sender.feedback([("era", 1.0)], "x")] == [("127.0.0.1", 9001)]
    clock_of(router).advance(61)
    assert sender.feedback([("era", 1.0)], "x") == []


def test_a_new_hello_replaces_the_old_one(router: OscRouter) -> None:
    sender = FeedbackSender(router)
    router.handle(encode("/performer/hello", 9001), ME)
    router.handle(encode("/performer/hello", 9002), ME)
    assert [to for _, to in sender.feedback([("era", 1.0)], "x")] == [("127.0.0.1", 9002)]
    # a controller restarted on a new source port, same reply port: one registration
    router.handle(encode("/performer/hello", 9002), ("127.0.0.1", 50001))
    assert len(sender.feedback([("era", 1.0)], "x")) == 1


def test_one_host_cannot_take_every_slot(router: OscRouter) -> None:
    for port in range(40):
        router.handle(encode("/performer/hello", 9100 + port), ("127.0.0.1", 40000 + port))
    assert len(router.registry.registered(router.clock.now())) == 4
    assert router.complaints.counts["controller refused"] == 36
    assert router.handle(encode("/performer/hello", 9001), ("127.0.0.2", 50000)) != []
    for host in range(3, 40):  # 32 slots from many hosts: full, until they expire
        router.handle(encode("/performer/hello", 9001), (f"127.0.0.{host}", 50000))
    assert router.handle(encode("/performer/hello", 9001), ("127.0.1.1", 50000)) == []
    clock_of(router).advance(61)
    assert router.handle(encode("/performer/hello", 9001), ("127.0.1.1", 50000)) != []


def test_a_full_registry_gives_the_oldest_untrusted_slot_to_a_newcomer(
    router: OscRouter,
) -> None:
    """8 hosts x 4 hellos, each renewed every 50 s, kept the real controller out."""
    hello = encode("/performer/hello", 9001)
    squatters = [(f"10.0.0.{h}", 40000 + i) for h in range(8) for i in range(4)]
    for sender in squatters:
        router.handle(encode("/performer/hello", sender[1]), sender)
        clock_of(router).advance(0.01)
    for _ in range(3):  # renewed, in order, long before they expire
        clock_of(router).advance(50)
        for sender in squatters:
            router.handle(encode("/performer/era", 1900.0), sender)
    now = router.clock.now()
    assert len(router.registry.registered(now)) == 32
    tablet = ("10.9.9.9", 50000)
    router.handle(hello, tablet)
    registered = router.registry.registered(router.clock.now())
    assert tablet in registered and squatters[0] not in registered, "the oldest gave way"
    assert len(registered) == 32 and router.complaints.counts["controller refused"] == 0


def test_trusted_registrations_are_never_taken_by_untrusted_hellos(router: OscRouter) -> None:
    hello = encode("/performer/hello", 9001)
    for h in range(8):
        for i in range(4):
            router.handle(encode("/performer/hello", 9001 + i), (f"10.0.0.{h}", 40000 + i))
    router.handle(hello, ME)  # this machine takes an untrusted host's slot
    router.trust(lambda host: host == "10.9.9.9")
    router.handle(hello, ("10.9.9.9", 50000))  # so does a host the allow-list names
    for h in range(64):  # a flood of fresh untrusted hosts churns the untrusted slots only
        clock_of(router).advance(0.01)
        router.handle(hello, (f"10.1.0.{h}", 40000))
    registered = router.registry.registered(router.clock.now())
    assert ME in registered and ("10.9.9.9", 50000) in registered
    assert len(registered) == 32
    # every slot held by trusted hosts: an untrusted hello is refused, with the reason
    for sender in [(f"127.0.0.{h}", 40000 + i) for h in range(2, 10) for i in range(4)][:30]:
        router.handle(encode("/performer/hello", sender[1]), sender)  # every slot trusted
    assert ME in router.registry.registered(router.clock.now())
    router.handle(hello, ("10.2.0.1", 40000))
    assert router.complaints.counts["controller refused"] == 1
    assert ("10.2.0.1", 40000) not in router.registry.registered(router.clock.now())


def test_feedback_is_rate_limited_per_target(router: OscRouter) -> None:
    sender = FeedbackSender(router)
    router.handle(encode("/performer/hello", 9001), ME)
    clock_of(router).advance(5)  # the hello's state is long paid for
    flood = [("era", 1840.0 + i) for i in range(2000)]
    first = sender.feedback(flood, "x")
    assert 0 < len(first) <= 480
    assert router.complaints.counts["feedback withheld"] == 1
    assert sender.feedback(flood[:10], "x") == [], "the budget is spent"
    clock_of(router).advance(1)
    assert len(sender.feedback(flood[:10], "x")) == 10


def test_a_controller_always_ends_with_the_latest_value(router: OscRouter) -> None:
    """Feedback over a controller's budget is held back, not lost: the latest value of
    each parameter goes with the next feedback, or with a flush once the budget
    refills, so a fader never stays on a stale value."""
    from pythonosc.osc_message import OscMessage

    sender = FeedbackSender(router)

    def values(replies: list[tuple[bytes, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for data, _ in replies:
            message = OscMessage(data)
            seen[message.address] = message.params[0]
        return seen

    router.handle(encode("/performer/hello", 9001), ME)
    clock_of(router).advance(5)
    burst = [("era", 1840.0 + i) for i in range(1000)] + [("guidance", 3.0)]
    sent = values(sender.feedback(burst, "x"))
    assert sent.get("/performer/era") != 2839.0, "the budget held back the last values"
    assert sender.flush() == [], "nothing can go before the budget refills"
    clock_of(router).advance(1)
    latest = values(sender.flush())
    assert latest == {"/performer/era": 2839.0, "/performer/guidance": 3.0}
    assert sender.flush() == [], "sent once"
    # a newer value supersedes one still held back
    sender.feedback([("era", 1850.0 + i) for i in range(1000)], "x")
    sender.feedback([("era", 1900.0)], "x")
    clock_of(router).advance(1)
    assert values(sender.feedback([("era", 1901.0)], "x")) == {"/performer/era": 1901.0}
    assert sender.flush() == []


def test_a_sender_off_this_machine_gets_back_at_most_four_times_what_it_sent(
    router: OscRouter,
) -> None:
    sender = FeedbackSender(router)
    router.store.set("prompt", "a harbour at night, " * 90)
    request = encode("/performer/get", "prompt")
    assert router.handle(request, FAR) == []  # 28 bytes in, 1.8 KB would go out
    assert router.complaints.counts["reply withheld"] == 1
    hello = encode("/performer/hello", 9001)
    state = router.handle(hello, FAR)
    assert sum(len(m) for m, _ in state) <= 4 * (len(request) + len(hello))
    clock_of(router).advance(1)
    out = sender.feedback([("era", 1900.0 + i) for i in range(100)], "x")
    sent = sum(len(m) for m, _ in state) + sum(len(m) for m, _ in out)
    assert sent <= 4 * (len(request) + len(hello))
    # this machine, and a host the allow-list trusts, get the whole prompt
    ((reply, _),) = router.handle(request, ME)
    assert len(reply) > 1800
    router.trust(lambda host: host == "10.9.9.9")
    assert len(router.handle(request, FAR)) == 1


@pytest.mark.parametrize("host", ["::1", "::ffff:127.0.0.1", "127.8.9.10"])
def test_loopback_in_every_spelling_is_this_machine(router: OscRouter, host: str) -> None:
    router.store.set("prompt", "x" * 1900)
    assert len(router.handle(encode("/performer/get", "prompt"), (host, 50000))) == 1


# item 9: log floods ---------------------------------------------------------------------


def test_fresh_source_ports_do_not_defeat_the_log_limit(
    router: OscRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        for port in range(3000):
            router.handle(b"\x00garbage" + bytes([port % 256]), ("127.0.0.1", 10000 + port))
    assert router.complaints.counts["malformed packet"] == 3000
    assert len(caplog.records) <= 3, "one line per kind per second"


def test_the_next_line_says_how_many_were_left_out(caplog: pytest.LogCaptureFixture) -> None:
    from performer.control.osc import Complaints

    clock = FakeClock()
    complaints = Complaints(clock.now)
    with caplog.at_level(logging.WARNING, logger="performer.control.osc"):
        for _ in range(10):
            complaints("bad message", "/x", "values []")
        complaints("unknown address", "/performer/x", "no such parameter")  # its own line
        clock.advance(1.0)
        complaints("bad message", "/x\x07\n", "values []")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "(11 so far; 9 more lines like it left out)" in lines[2]
    assert "\n" not in lines[2] and "\\x07" in lines[2]


def test_no_log_filter_is_installed_and_encoding_never_makes_python_osc_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """python-osc only warns while parsing; the router parses with control.osc_packet and
    encode() builds blobs and nil with python-osc, which parses only what it wrote."""
    OscRouter(Inbox(), FakeClock(), ParamStore())
    for name in ("", "pythonosc"):
        filters = logging.getLogger(name).filters
        assert not [f for f in filters if type(f).__module__ == "performer.control.osc"], name
    with caplog.at_level(logging.DEBUG):
        for value in (b"\x00\x01\x02", None, [1, [2.0, "x"]], True):
            encode("/x", 1, value)
    assert not [r for r in caplog.records if "pythonosc" in r.pathname]


def test_the_router_itself_never_makes_python_osc_warn(
    router: OscRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        router.handle(b"/x\x00\x00,X\x00\x00", ME)
    assert router.complaints.counts["unsupported type tag"] == 1
    assert not [r for r in caplog.records if "pythonosc" in r.pathname]
