"""Every listener asks one allow-list, and no packet can end the OSC server's thread."""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from performer.control.allow import AllowList, open_warning
from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.osc_server import OscServer
from performer.control.params import ParamStore

from performer.inputs import InputOptions, Inputs
from performer.session import Session


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return bool(condition())


# the allow-list


def test_entries_are_addresses_networks_and_names_normalised() -> None:
    allow = AllowList.parse(["10.0.0.0/8", "::ffff:192.168.1.7", "::1", "localhost"])
    assert ipaddress.ip_network("127.0.0.1/32") in allow.networks  # type: ignore[operator]
    exact = AllowList.parse(["10.0.0.0/8", "::ffff:192.168.1.7"], trust_loopback=False)
    assert exact.allows("10.200.3.4") and exact.allows("::ffff:10.1.1.1")
    assert exact.allows("192.168.1.7") and exact.allows("::ffff:192.168.1.7")
    assert not exact.allows("11.0.0.1") and not exact.allows("127.0.0.1")
    assert not exact.allows("not an address") and not exact.allows("")
    assert exact.allows("10.0.0.1%eth0")  # a scope id is not part of who it is


def test_localhost_resolves_instead_of_matching_nothing() -> None:
    allow = AllowList.parse(["localhost"], trust_loopback=False)
    assert allow.allows("127.0.0.1") and allow.allows("::ffff:127.0.0.1")
    assert not allow.allows("10.9.9.9")


@pytest.mark.parametrize("entry", ["nosuch-host.invalid", "10.0.0.0/33", "", "  "])
def test_an_unusable_entry_is_refused_by_name(entry: str) -> None:
    with pytest.raises(ValueError, match="allowed sender " + repr(entry).replace(".", r"\.")):
        AllowList.parse(["127.0.0.1", entry])


def test_loopback_is_trusted_unless_the_list_is_exact() -> None:
    allow = AllowList.parse(["10.9.9.9"])
    assert allow.allows("127.0.0.1") and allow.allows("127.3.2.1") and allow.allows("::1")
    assert allow.allows("::ffff:127.0.0.1") and not allow.allows("10.9.9.8")
    assert AllowList.parse(None).allows("203.0.113.5"), "no list: everyone, as before"


def test_an_open_listener_beyond_loopback_gets_one_warning() -> None:
    everyone = AllowList.parse([])
    assert "0.0.0.0" in (open_warning(everyone, "0.0.0.0") or "")
    assert open_warning(everyone, "::") is not None
    assert open_warning(everyone, "127.0.0.1") is None
    assert open_warning(everyone, "localhost") is None
    assert open_warning(AllowList.parse(["10.0.0.5"]), "0.0.0.0") is None


def test_cli_refuses_an_unresolvable_name_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from performer.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["play", "--osc-allow", "nosuch-host.invalid"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--osc-allow" in last and "'nosuch-host.invalid'" in last


# OSC over UDP


def test_dual_stack_socket_hears_an_allowed_ipv4_sender() -> None:
    """On a v6 socket 127.0.0.1 arrives as ::ffff:127.0.0.1; it must still be allowed.

    The socket is bound to the v4-mapped loopback, so nothing listens beyond this machine.
    """
    router = OscRouter(Inbox(), MonotonicClock(), ParamStore())
    exact = AllowList.parse(["127.0.0.1"], trust_loopback=False)
    with OscServer(router, host="::ffff:127.0.0.1", port=0, allow=exact) as server:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(encode("/performer/era", 1901.0), ("127.0.0.1", server.address[1]))
        client.close()
        assert wait_for(lambda: server.received == 1)
    assert router.complaints.counts["sender not allowed"] == 0
    assert [(e.source, e.value) for e in router.inbox.drain()] == [("param:era", 1901.0)]


class FragileRouter(OscRouter):
    """A router with a bug: it raises on one address (a stand-in for any router bug)."""

    def handle(self, data: bytes, sender: tuple[str, int]) -> list[tuple[bytes, tuple[str, int]]]:
        if b"/boom" in data:
            raise RuntimeError("a bug in the router")
        return super().handle(data, sender)


def nested_bundle(depth: int) -> bytes:
    """A bundle holding a bundle ... ``depth`` deep, holding one message."""
    data = encode("/performer/era", 1850.0)
    for _ in range(depth):
        data = b"#bundle\0" + struct.pack(">Q", 1) + struct.pack(">i", len(data)) + data
    return data


def test_no_packet_ends_the_server_thread(caplog: pytest.LogCaptureFixture) -> None:
    router = FragileRouter(Inbox(), MonotonicClock(), ParamStore())
    caplog.set_level(logging.ERROR, logger="performer.control.osc_server")
    with OscServer(router, port=0) as server:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(nested_bundle(400), server.address)  # RecursionError in the old router
        for _ in range(50):
            client.sendto(encode("/boom", 1), server.address)
        assert wait_for(lambda: server.received == 51)
        client.sendto(encode("/performer/seed", 77), server.address)
        assert wait_for(lambda: server.received == 52)
        client.close()
        assert server._thread is not None and server._thread.is_alive()
    seeds = [e.value for e in router.inbox.drain() if e.source == "param:seed"]
    assert seeds == [77], "the good packet after the bad ones got through"
    assert server.failures >= 50
    lines = [r.getMessage() for r in caplog.records if "raised" in r.getMessage()]
    assert 1 <= len(lines) <= 2, "logged once a second, not once a packet"
    assert "RuntimeError" in lines[0] or "RecursionError" in lines[0]
    assert "so far" in lines[0] and "still listening" in lines[0]


# one list for every listener


def fake_session() -> Session:
    """What the inputs use of a session: its inbox, clock, store and on_changes."""
    return cast(
        Session,
        SimpleNamespace(
            inbox=Inbox(), clock=MonotonicClock(), store=ParamStore(), on_changes=lambda _: None
        ),
    )


def start_inputs(session: Session, options: InputOptions) -> Inputs:
    inputs = Inputs(options, session.inbox)
    inputs.start(session)
    return inputs


def test_osc_and_oscquery_share_one_allow_list() -> None:
    options = InputOptions(
        osc_port=0, oscquery_port=0, osc_allow=["10.9.9.9", "localhost"], midi_virtual=False
    )
    inputs = start_inputs(fake_session(), options)
    try:
        osc, query = inputs.started
        assert query.allow is osc.allow
        assert not query.allow.everyone and query.allow.allows("10.9.9.9")
        assert not query.allow.allows("10.9.9.10")
    finally:
        inputs.stop()


def test_an_unresolvable_name_plays_on_without_osc(caplog: pytest.LogCaptureFixture) -> None:
    options = InputOptions(osc_port=0, osc_allow=["nosuch-host.invalid"], midi_virtual=False)
    inputs = start_inputs(fake_session(), options)
    assert inputs.started == []
    assert any("'nosuch-host.invalid'" in r.getMessage() for r in caplog.records)


def test_a_network_entry_admits_but_only_single_hosts_are_trusted() -> None:
    allow = AllowList.parse(["0.0.0.0/0", "::/0", "10.9.9.9", "localhost"])
    assert allow.allows("10.1.2.3") and allow.allows("2001:db8::1")
    assert not allow.trusts("10.1.2.3") and not allow.trusts("2001:db8::1")
    assert allow.trusts("10.9.9.9") and allow.trusts("::ffff:10.9.9.9")
    assert allow.trusts("127.0.0.1")
    assert not AllowList.parse(None).trusts("10.9.9.9")


@pytest.mark.parametrize(("entries", "trusted"), [(["0.0.0.0/0"], False), (["10.9.9.9"], True)])
def test_a_wide_allow_list_keeps_the_amplification_bound(entries: list[str], trusted: bool) -> None:
    options = InputOptions(osc_port=0, oscquery_port=None, osc_allow=entries, midi_virtual=False)
    session = fake_session()
    session.store.set("prompt", "a harbour at night, " * 90)
    inputs = start_inputs(session, options)
    try:
        (osc,) = inputs.started
        replies = osc.router.handle(encode("/performer/get", "prompt"), ("10.9.9.9", 50000))
        assert len(replies) == (1 if trusted else 0), "28 bytes in must not buy 1.8 KB out"
    finally:
        inputs.stop()


class _V6OnlyByDefault(socket.socket):
    """A real socket as on platforms whose IPv6 sockets start v6-only (BSD, Windows)."""

    def __init__(self, family: int = -1, *args: Any, **kwargs: Any) -> None:
        super().__init__(family, *args, **kwargs)
        if family == socket.AF_INET6:
            self.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)


def test_an_ipv6_osc_socket_is_dual_stack_where_v6_only_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A v6-only socket cannot take a v4-mapped address (so "::" would miss IPv4)."""
    from performer.control import osc_server

    monkeypatch.setattr(osc_server.socket, "socket", _V6OnlyByDefault)
    router = OscRouter(Inbox(), MonotonicClock(), ParamStore())
    with OscServer(router, host="::ffff:127.0.0.1", port=0) as server:
        assert server._sock is not None
        assert server._sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 0
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.sendto(encode("/performer/era", 1901.0), ("127.0.0.1", server.address[1]))
        client.close()
        assert wait_for(lambda: server.received == 1)
