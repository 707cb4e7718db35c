"""OSCQuery: the namespace served over HTTP, as the proposal's required keys say."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from performer.control.allow import AllowList
from performer.control.http_request import Limits
from performer.control.oscquery import OscQueryServer
from performer.control.params import REGISTRY, ParamStore


@pytest.fixture
def query() -> Iterator[OscQueryServer]:
    store = ParamStore({"era": 1977})
    server = OscQueryServer(store, ("127.0.0.1", 9000), port=0)
    server.start()
    yield server
    server.stop()


def get(server: OscQueryServer, path: str) -> tuple[int, Any]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as reply:
            body = reply.read()
            return reply.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def check_node(node: dict[str, Any], path: str) -> None:
    """The proposal: every node has FULL_PATH; containers CONTENTS; methods TYPE, ACCESS."""
    assert node["FULL_PATH"] == path
    if "CONTENTS" in node:
        for name, child in node["CONTENTS"].items():
            check_node(child, f"{path.rstrip('/')}/{name}")
    else:
        assert isinstance(node["TYPE"], str) and node["ACCESS"] in (0, 1, 2, 3)
        assert len(node["VALUE"]) == len(node["TYPE"])


def test_namespace_is_valid_and_derived_from_the_registry(query: OscQueryServer) -> None:
    status, root = get(query, "/")
    assert status == 200
    check_node(root, "/")
    nodes = root["CONTENTS"]["performer"]["CONTENTS"]
    assert set(nodes) == set(REGISTRY)
    era = nodes["era"]
    assert era["TYPE"] == "f" and era["VALUE"] == [1977.0]
    assert era["RANGE"] == [{"MIN": 1840.0, "MAX": 2030.0}] and era["UNIT"] == ["year"]
    assert era["DESCRIPTION"] == REGISTRY["era"].doc
    assert nodes["steps"]["TYPE"] == "i" and nodes["prompt"]["TYPE"] == "s"


def test_host_info_single_nodes_and_attributes(query: OscQueryServer) -> None:
    _, info = get(query, "/?HOST_INFO")
    assert info["OSC_PORT"] == 9000 and info["OSC_TRANSPORT"] == "UDP"
    assert get(query, "/performer/era?VALUE") == (200, {"VALUE": [1977.0]})
    status, node = get(query, "/performer/era")
    assert status == 200 and node["FULL_PATH"] == "/performer/era"
    assert get(query, "/performer/nope")[0] == 404


def test_binds_to_loopback_by_default(query: OscQueryServer) -> None:
    assert query.address[0] == "127.0.0.1"


# the HTTP side under attack: every test ends by checking that a good request is answered


def raw(server: OscQueryServer, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    with socket.create_connection(server.address, timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def answers_good_requests(server: OscQueryServer) -> bool:
    return get(server, "/performer/era?VALUE") == (200, {"VALUE": [1977.0]})


@pytest.fixture
def guarded() -> Iterator[OscQueryServer]:
    """A server with short limits, so the attacks below run in a second or two."""
    limits = Limits(max_connections=16, timeout=1.0, grace=0.1)
    server = OscQueryServer(ParamStore({"era": 1977}), ("127.0.0.1", 9000), port=0, limits=limits)
    server.start()
    yield server
    server.stop()


def test_204_has_no_body(query: OscQueryServer) -> None:
    reply = raw(query, b"GET /performer/era?CRITICAL HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204 ") and body == b""
    assert b"content-length" not in head.lower()
    assert get(query, "/performer/era?CRITICAL") == (204, None)


def test_head_and_other_methods(query: OscQueryServer) -> None:
    reply = raw(query, b"HEAD /performer/era HTTP/1.1\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: " in head and body == b""
    assert raw(query, b"POST / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 ")
    assert raw(query, b"nonsense\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_oversized_headers_are_refused_unbuffered(guarded: OscQueryServer) -> None:
    one_long_line = b"GET / HTTP/1.1\r\nX: " + b"a" * 100_000
    with socket.create_connection(guarded.address, timeout=5) as sock:
        # the server may close before taking it all: that is the point
        with contextlib.suppress(OSError):
            sock.sendall(one_long_line)
        assert sock.recv(100).startswith(b"HTTP/1.1 431 ")
    many_lines = b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 40 + b"\r\n"
    assert raw(guarded, many_lines).startswith(b"HTTP/1.1 431 ")
    assert answers_good_requests(guarded)


def slow_client(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.setblocking(False)
    return sock


@pytest.mark.slow
def test_slowloris_cannot_hold_the_server(guarded: OscQueryServer) -> None:
    """40 clients send their headers a byte at a time (more than the cap of 16) for 1.6 s,
    while a good client asks every 0.2 s."""
    threads = threading.active_count()
    request = b"GET / HTTP/1.1\r\nHost: performer\r\nX-Slow: " + b"z" * 400
    slow = [slow_client(guarded.address) for _ in range(40)]
    closed: set[int] = set()
    waits = []
    started = asked = time.monotonic()
    for i in range(len(request)):
        for n, sock in enumerate(slow):
            try:
                sock.send(request[i : i + 1])
            except OSError:  # evicted or timed out: the server let go of it
                closed.add(n)
        if time.monotonic() - asked > 0.2:
            asked = time.monotonic()
            assert answers_good_requests(guarded), f"no answer after {i} slow bytes"
            waits.append(time.monotonic() - asked)
            assert threading.active_count() <= threads, "no thread per connection"
        assert guarded._http.open_connections <= 16
        time.sleep(0.01)
        if time.monotonic() - started > 1.6:
            break
    for sock in slow:
        sock.close()
    assert len(waits) >= 3 and max(waits) < 2.0, waits
    assert guarded.stats["evicted"] + guarded.stats["timed out"] >= 24
    assert len(closed) >= 24, "slow clients past the cap and the time limit are let go"


@pytest.mark.slow
def test_connects_beyond_the_cap_and_a_quick_good_one(guarded: OscQueryServer) -> None:
    threads = threading.active_count()
    idle = [socket.create_connection(guarded.address, timeout=5) for _ in range(140)]
    try:
        assert answers_good_requests(guarded)
        assert guarded._http.open_connections <= 16
        assert threading.active_count() <= threads
    finally:
        for sock in idle:
            sock.close()
    assert answers_good_requests(guarded)


def test_many_requests_at_once_are_all_answered(query: OscQueryServer) -> None:
    """200 clients, each asking as it connects, all open at once (the old backlog of 5
    timed out half of 1,000 such requests)."""
    socks = []
    for _ in range(200):
        sock = socket.create_connection(query.address, timeout=10)
        sock.sendall(b"GET /performer/era?VALUE HTTP/1.1\r\n\r\n")
        socks.append(sock)
    replies = []
    for sock in socks:
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        sock.close()
        replies.append(data)
    assert all(r.startswith(b"HTTP/1.1 200 ") for r in replies)


def test_clients_hanging_up_mid_exchange_print_nothing(
    query: OscQueryServer, capfd: pytest.CaptureFixture[str]
) -> None:
    for n in range(100):
        sock = socket.create_connection(query.address, timeout=5)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n"[: 4 + n % 16])
        if n % 2:  # a reset, not a polite close
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert answers_good_requests(query)
    assert "Traceback" not in capfd.readouterr().err


def test_refused_peers_read_nothing() -> None:
    exact = AllowList.parse(["10.9.9.9"], trust_loopback=False)
    store = ParamStore({"prompt": "a secret prompt"})
    server = OscQueryServer(store, ("127.0.0.1", 9000), port=0, allow=exact)
    server.start()
    try:
        for _ in range(20):
            try:
                reply = raw(server, b"GET / HTTP/1.1\r\n\r\n")
            except ConnectionResetError:  # closed at once, before the request came
                reply = b""
            assert b"secret" not in reply
            assert reply == b"" or reply.startswith(b"HTTP/1.1 403 ")
        assert server.stats["refused"] == 20 and server.stats["requests"] == 0
    finally:
        server.stop()
    trusting = OscQueryServer(
        store, ("127.0.0.1", 9000), port=0, allow=AllowList.parse(["10.9.9.9"])
    )
    trusting.start()
    try:
        assert b"secret" in raw(trusting, b"GET / HTTP/1.1\r\n\r\n"), "this machine is trusted"
    finally:
        trusting.stop()


requests = st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda method, path, headers, end: method + b" " + path + b" HTTP/1.1\r\n" + headers + end,
        st.sampled_from([b"GET", b"HEAD", b"PUT", b"get", b"", b"\x00"]),
        st.binary(max_size=80) | st.sampled_from([b"/", b"/performer/era?VALUE", b"/?HOST_INFO"]),
        st.binary(max_size=300),
        st.sampled_from([b"\r\n\r\n", b"\r\n", b"", b"\n\n"]),
    ),
)


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[OscQueryServer]:
    server = OscQueryServer(
        ParamStore({"era": 1977}), ("127.0.0.1", 9000), port=0, limits=Limits(timeout=1.0)
    )
    server.start()
    yield server
    server.stop()


@settings(max_examples=60, derandomize=True, deadline=None)
@given(data=requests, hang_up=st.booleans())
def test_fuzzed_requests_never_stop_the_server(
    fuzz_server: OscQueryServer, data: bytes, hang_up: bool
) -> None:
    with socket.create_connection(fuzz_server.address, timeout=5) as sock:
        try:
            sock.sendall(data)
            if not hang_up:
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):
                    pass
        except OSError:
            pass
    assert answers_good_requests(fuzz_server)


@pytest.mark.slow
def test_an_idle_server_takes_no_cpu_from_the_display(query: OscQueryServer) -> None:
    idle = [socket.create_connection(query.address, timeout=5) for _ in range(5)]
    try:
        spent = time.process_time()
        time.sleep(1.0)
        spent = time.process_time() - spent
    finally:
        for sock in idle:
            sock.close()
    assert spent < 0.2, f"the server thread spun: {spent:.2f} s of CPU in 1 s"
