"""A small HTTP/1.1 GET server for OSCQuery that no client can exhaust.

Why not ``http.server``: it spends a thread per connection and waits forever for a
half-open one (800 connections made 811 threads), buffers up to 100 header lines of
64 KB each, listens with a backlog of 5, and prints a traceback for every client that
hangs up early. OSCQuery needs none of its generality: one GET, one small JSON answer,
then the connection closes. So this is one thread with a selector:

- at most ``max_connections`` (128) open at once. Past the cap newcomers wait in the
  listen backlog (128, not 5), and each one taken evicts the oldest connection that
  has been sending its request for more than ``grace`` (0.1 s): a slowloris client,
  since a real one sends its request within milliseconds of connecting. Connections
  being answered are never evicted; they finish or time out on their own;
- every connection is closed ``timeout`` (3 s) after it was accepted, whatever it
  is doing, so a trickle of bytes cannot keep it open;
- a request head is at most ``header_bytes`` and ``header_lines``: 431 past that;
- peers the :class:`~control.allow.AllowList` refuses get a 403 and are closed unread;
- a client that goes away is counted and logged once a second at debug level;
- whatever answering raises is a 500 for that client and a rate-limited line, never
  the end of the thread.

One thread, not many, because every Python thread that works takes the GIL from the
display loop; here the work per request is a lookup in a cached answer.
"""

from __future__ import annotations

import contextlib
import logging
import math
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from performer.control.allow import AllowList
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)

# (status, JSON body or None); None means no body at all (204)
Answer = tuple[int, bytes | None]
REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Limits:
    # The cap is for memory and descriptors (a request head holds at most 8 KB: 1 MB in
    # all), not threads; it is large enough that a burst of real clients connecting at
    # once (a venue's tablets after a network drop) all get in at once.
    max_connections: int = 128
    header_bytes: int = 8 * 1024
    header_lines: int = 32
    timeout: float = 3.0  # seconds from accept to close, whatever the client does
    # seconds a request may take before a newcomer may evict it: a real client's request
    # follows its connect within milliseconds; cap / grace = 1,280 evictions a second
    grace: float = 0.1
    backlog: int = 128


class _Connection:
    __slots__ = ("head", "out", "peer", "since", "sock")

    def __init__(self, sock: socket.socket, peer: str, since: float):
        self.sock, self.peer, self.since = sock, peer, since
        self.head = bytearray()
        self.out: memoryview | None = None  # set once the request is answered


def response(status: int, body: bytes | None, head_only: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", "Connection: close"]
    if status == 204:  # RFC 9110: no body, and no Content-Length either
        body = None
    else:
        body = body or b""
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    if status == 405:
        lines.append("Allow: GET, HEAD")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return data if head_only or body is None else data + body


class HttpListener:
    """Serves ``answer(path)`` for GET and HEAD on ``host:port`` from one thread."""

    def __init__(
        self,
        answer: Callable[[str], Answer],
        host: str = "127.0.0.1",
        port: int = 0,
        allow: AllowList | None = None,
        limits: Limits | None = None,
        name: str = "http",
    ):
        self.answer, self.name = answer, name
        self.allow = allow or AllowList.parse(None)
        self.limits = limits or Limits()
        self.stats: Counter[str] = Counter()
        self._ratelog = RateLog(log)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # "::" hears IPv4 too, as ::ffff:a.b.c.d
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((host, port))
            sock.listen(self.limits.backlog)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._sock = sock
        bound = sock.getsockname()
        self._address = (str(bound[0]), int(bound[1]))  # still known after stop()
        self._conns: dict[socket.socket, _Connection] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._listening = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every socket; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
            self._thread.join(timeout=5)
            self._thread = None
        for conn in list(self._conns.values()):
            self._close(conn)
        for sock in (self._sock, self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()

    # the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception as exc:  # the loop itself must survive anything
                self._ratelog(
                    "loop",
                    "%s: %s: %.200s",
                    self.name,
                    type(exc).__name__,
                    exc,
                    level=logging.ERROR,
                )
                time.sleep(0.01)

    def _turn(self) -> None:
        now = time.monotonic()
        room = self._room(now)
        self._listen(room == 0.0)  # past the cap, newcomers wait in the kernel's backlog
        # with room, a newcomer wakes the selector; without, wake when the oldest request
        # becomes evictable (inf: when an answer is done, which also wakes it)
        wait = 0.25 if room in (0.0, math.inf) else min(0.25, room)
        if self._conns:
            first = min(c.since for c in self._conns.values())
            wait = min(wait, max(0.0, first + self.limits.timeout - now))
        for key, mask in self._selector.select(wait):
            if key.data == "listen":
                self._accept()
            elif key.data == "wake":
                self._drain_wake()
            elif key.data.sock in self._conns:  # not closed earlier in this turn
                conn = key.data
                if mask & selectors.EVENT_READ and conn.out is None:
                    self._guarded(conn, self._read)
                if mask & selectors.EVENT_WRITE and conn.out is not None:
                    self._guarded(conn, self._write)
        self._expire(time.monotonic())

    def _room(self, now: float) -> float:
        """0 when a newcomer can be taken now; else seconds until one can (inf: when a
        connection being answered finishes)."""
        if len(self._conns) < self.limits.max_connections:
            return 0.0
        waiting = [c.since for c in self._conns.values() if c.out is None]
        if not waiting:
            return math.inf
        return max(0.0, min(waiting) + self.limits.grace - now)

    def _listen(self, on: bool) -> None:
        if on != self._listening:
            if on:
                self._selector.register(self._sock, selectors.EVENT_READ, "listen")
            else:
                self._selector.unregister(self._sock)
            self._listening = on

    def _guarded(self, conn: _Connection, step: Callable[[_Connection], None]) -> None:
        """One step for one client; what goes wrong ends that client, not the server."""
        try:
            step(conn)
        except BlockingIOError:
            pass
        except OSError as exc:
            self._gone(conn, exc)
        except Exception as exc:
            self._ratelog(
                "answer",
                "%s: answering %s raised %s: %.200s",
                self.name,
                conn.peer,
                type(exc).__name__,
                exc,
                level=logging.ERROR,
            )
            self._answer_500(conn)

    def _answer_500(self, conn: _Connection) -> None:
        if conn.out is None and conn.sock in self._conns:
            try:
                self._answer_with(conn, 500, None)
                return
            except Exception:
                pass
        self._close(conn)

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_r.recv(64)

    def _accept(self) -> None:
        for _ in range(64):  # a batch, then back to the connections already open
            if self._room(time.monotonic()) > 0.0:
                return
            try:
                sock, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: try again next turn
                self._ratelog("accept", "%s: accept failed: %s", self.name, exc)
                return
            sock.setblocking(False)
            self.stats["accepted"] += 1
            address = str(peer[0])
            if not self.allow.allows(address):
                self.stats["refused"] += 1
                self._ratelog(
                    "refused",
                    "%s: refused %s (not on --osc-allow)",
                    self.name,
                    address,
                    level=logging.INFO,
                )
                self._refuse(sock, 403)
                continue
            if len(self._conns) >= self.limits.max_connections:
                self._evict()
            conn = _Connection(sock, address, time.monotonic())
            self._conns[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)
            # most clients send the request with the connect: answer it now
            self._guarded(conn, self._read)

    def _refuse(self, sock: socket.socket, status: int) -> None:
        """One try at a short answer, then close: a refused peer holds nothing here."""
        with contextlib.suppress(OSError):
            sock.send(response(status, b'{"error": "' + REASONS[status].encode() + b'"}'))
            sock.shutdown(socket.SHUT_WR)
            sock.recv(4096)  # what already came, so the close is a FIN more often than a RST
        sock.close()

    def _evict(self) -> None:
        """Close the oldest connection still sending its request (:meth:`_room` said
        there is one, older than the grace)."""
        oldest = min((c for c in self._conns.values() if c.out is None), key=lambda c: c.since)
        self.stats["evicted"] += 1
        self._ratelog(
            "evicted",
            "%s: too many connections; closed %s's unfinished request",
            self.name,
            oldest.peer,
            level=logging.INFO,
        )
        self._close(oldest)

    def _read(self, conn: _Connection) -> None:
        data = conn.sock.recv(4096)
        if not data:
            self.stats["hung up"] += 1
            self._close(conn)
            return
        searched_from = max(0, len(conn.head) - 3)
        conn.head += data
        end = conn.head.find(b"\r\n\r\n", searched_from)
        if end < 0 and len(conn.head) > self.limits.header_bytes:
            self._answer_with(conn, 431, None)
            return
        if end < 0:
            return
        if end > self.limits.header_bytes:
            self._answer_with(conn, 431, None)
            return
        lines = bytes(conn.head[:end]).split(b"\r\n")
        if len(lines) - 1 > self.limits.header_lines:
            self._answer_with(conn, 431, None)
            return
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            self._answer_with(conn, 400, None)
            return
        method, target = parts[0], parts[1].decode("latin-1")
        if method not in (b"GET", b"HEAD"):
            self._answer_with(conn, 405, None)
            return
        self.stats["requests"] += 1
        status, body = self.answer(target)
        self._answer_with(conn, status, body, head_only=method == b"HEAD")

    def _answer_with(
        self, conn: _Connection, status: int, body: bytes | None, head_only: bool = False
    ) -> None:
        if status >= 400 and body is None:
            body = b'{"error": "' + REASONS.get(status, "Error").encode() + b'"}'
        if status in (400, 405, 431):
            self.stats["bad requests"] += 1
            self._ratelog(
                "bad request", "%s: %s from %s", self.name, status, conn.peer, level=logging.INFO
            )
        conn.head = bytearray()  # the request is done with; keep nothing of it
        conn.out = memoryview(response(status, body, head_only))
        self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        self._write(conn)

    def _write(self, conn: _Connection) -> None:
        assert conn.out is not None
        try:
            sent = conn.sock.send(conn.out)
        except BlockingIOError:
            return
        conn.out = conn.out[sent:]
        if not conn.out:
            self.stats["answered"] += 1
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_WR)
            self._close(conn)

    def _gone(self, conn: _Connection, exc: OSError) -> None:
        self.stats["went away"] += 1
        self._ratelog(
            "went away",
            "%s: %s went away mid-request (%s)",
            self.name,
            conn.peer,
            type(exc).__name__,
            level=logging.DEBUG,
        )
        self._close(conn)

    def _expire(self, now: float) -> None:
        late = [c for c in self._conns.values() if now - c.since >= self.limits.timeout]
        for conn in late:
            self.stats["timed out"] += 1
            self._ratelog(
                "timed out",
                "%s: closed %s after %.0f s without a finished exchange",
                self.name,
                conn.peer,
                self.limits.timeout,
                level=logging.INFO,
            )
            self._close(conn)

    def _close(self, conn: _Connection) -> None:
        if self._conns.pop(conn.sock, None) is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        conn.sock.close()
