"""OSC feedback leaves the thread that applied the changes (the display's): its sendto
runs on the feedback thread, and a socket that blocks or raises costs the caller
nothing. Through a real server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import OscRouter, encode
from performer.control.osc_server import OscServer
from performer.control.params import REGISTRY, ParamStore
from pythonosc.osc_message import OscMessage


class Gate:
    """The server's socket, whose sendto waits until ``opened`` (or raises), noting
    which threads call it."""

    def __init__(self, sock: socket.socket, raises: bool, wait_s: float):
        self.sock, self.raises, self.wait_s = sock, raises, wait_s
        self.opened = threading.Event()
        self.threads: set[int] = set()

    def sendto(self, data: bytes, target: tuple[str, int]) -> int:
        self.threads.add(threading.get_ident())
        if self.raises:
            raise RuntimeError("the network card caught fire")
        self.opened.wait(self.wait_s)
        return self.sock.sendto(data, target)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.fixture
def controller() -> Iterator[tuple[OscServer, socket.socket]]:
    """A running server and a controller registered for feedback (its state received)."""
    server = OscServer(OscRouter(Inbox(), MonotonicClock(), ParamStore()), port=0)
    server.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(2)
    client.sendto(encode("/performer/hello", client.getsockname()[1]), server.address)
    for _ in REGISTRY:  # the full state, sent on hello by the server's own thread
        client.recvfrom(4096)
    try:
        yield server, client
    finally:
        server.stop()
        client.close()


def gate(server: OscServer, raises: bool = False, wait_s: float = 2.0) -> Gate:
    assert server._sock is not None
    gated = Gate(server._sock, raises, wait_s)
    server._sock = gated  # the server thread keeps reading the real socket
    return gated


def test_feedback_is_sent_from_its_own_thread(
    controller: tuple[OscServer, socket.socket],
) -> None:
    server, client = controller
    gated = gate(server)
    gated.opened.set()
    server.feedback([("era", 1901.0)], "midi:cc:1:7")
    reply, _ = client.recvfrom(4096)
    assert OscMessage(reply).address == "/performer/era"
    assert OscMessage(reply).params == [1901.0]
    assert gated.threads and threading.get_ident() not in gated.threads


def test_a_blocked_socket_never_delays_the_caller_and_a_burst_coalesces(
    controller: tuple[OscServer, socket.socket],
) -> None:
    server, client = controller
    gated = gate(server)
    started = time.perf_counter()
    for i in range(2000):  # the display thread, ticking while the network hangs
        server.feedback([("era", 1840.0 + i * 0.05)], "midi:cc:1:7")
    took = time.perf_counter() - started
    assert took < 0.5, f"2000 changes cost the caller {took:.2f} s"
    gated.opened.set()
    seen = []
    while not seen or seen[-1] != pytest.approx(1840.0 + 1999 * 0.05):
        reply, _ = client.recvfrom(4096)
        seen.append(OscMessage(reply).params[0])
    assert len(seen) <= 2, "a burst holds one value per parameter, however long"


def test_a_socket_that_raises_never_reaches_the_caller(
    controller: tuple[OscServer, socket.socket],
) -> None:
    server, _ = controller
    gate(server, raises=True)
    started = time.perf_counter()
    for i in range(200):
        server.feedback([("era", 1900.0 + i)], "midi:cc:1:7")
    assert time.perf_counter() - started < 0.5
    deadline = time.monotonic() + 5
    while server.feedback_sender.failures == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.feedback_sender.failures > 0
    server.feedback([("era", 1.0)], "midi:cc:1:7")  # and the thread is still there
    assert any(t.name == "osc-feedback" for t in threading.enumerate())


def test_the_server_stops_with_a_send_stuck_and_leaves_no_thread(
    controller: tuple[OscServer, socket.socket],
) -> None:
    server, _ = controller
    gate(server, wait_s=0.3)  # never opened: the send waits its time out
    server.feedback([("era", 1900.0)], "midi:cc:1:7")
    time.sleep(0.05)
    server.stop()
    server.stop()  # twice is fine
    names = {t.name for t in threading.enumerate()}
    assert not names & {"osc-feedback", "osc-server"}, names
