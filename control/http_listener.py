"""A small HTTP/1.1 GET server for OSCQuery that no client can exhaust.

Why not ``http.server``: it spends a thread per connection and waits forever for a
half-open one (800 connections made 811 threads), buffers up to 100 header lines of
64 KB each, listens with a backlog of 5, and prints a traceback for every client that
hangs up early. OSCQuery needs none of its generality: one GET, one small JSON answer,
then the connection closes. So this is one thread with a selector:

- at most ``max_connections`` (128) open at once, and every connection closed
  ``timeout`` (3 s) after it was accepted; past the cap a newcomer evicts a slowloris
  client (:mod:`control.http_request` has the limits and the rules);
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

from performer.control.allow import AllowList
from performer.control.http_request import (
    Answer,
    Connection,
    Limits,
    error_body,
    parse_head,
    response,
    room,
)
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)


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
        self._conns: dict[socket.socket, Connection] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._listening = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _note(self, kind: str, message: str, *args: object, level: int = logging.INFO) -> None:
        """One line per ``kind`` a second at most, naming this listener."""
        self._ratelog(kind, "%s: " + message, self.name, *args, level=level)

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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception as exc:  # the loop itself must survive anything
                self._note("loop", "%s: %.200s", type(exc).__name__, exc, level=logging.ERROR)
                time.sleep(0.01)

    def _turn(self) -> None:
        now = time.monotonic()
        until = room(self._conns.values(), self.limits, now)
        self._listen(until == 0.0)  # past the cap, newcomers wait in the kernel's backlog
        # with room, a newcomer wakes the selector; without, wake when the oldest request
        # becomes evictable (inf: when an answer is done, which also wakes it)
        wait = 0.25 if until in (0.0, math.inf) else min(0.25, until)
        if self._conns:
            first = min(c.since for c in self._conns.values())
            wait = min(wait, max(0.0, first + self.limits.timeout - now))
        for key, mask in self._selector.select(wait):
            if key.data == "listen":
                self._accept()
            elif key.data == "wake":  # stop() woke it
                with contextlib.suppress(OSError):
                    self._wake_r.recv(64)
            elif key.data.sock in self._conns:  # not closed earlier in this turn
                conn = key.data
                if mask & selectors.EVENT_READ and conn.out is None:
                    self._guarded(conn, self._read)
                if mask & selectors.EVENT_WRITE and conn.out is not None:
                    self._guarded(conn, self._write)
        self._expire(time.monotonic())

    def _listen(self, on: bool) -> None:
        if on != self._listening:
            if on:
                self._selector.register(self._sock, selectors.EVENT_READ, "listen")
            else:
                self._selector.unregister(self._sock)
            self._listening = on

    def _guarded(self, conn: Connection, step: Callable[[Connection], None]) -> None:
        """One step for one client; what goes wrong ends that client, not the server."""
        try:
            step(conn)
        except BlockingIOError:
            pass
        except OSError as exc:
            self._gone(conn, exc)
        except Exception as exc:
            self._note(
                "answer",
                "answering %s raised %s: %.200s",
                conn.peer,
                type(exc).__name__,
                exc,
                level=logging.ERROR,
            )
            self._answer_500(conn)

    def _answer_500(self, conn: Connection) -> None:
        if conn.out is None and conn.sock in self._conns:
            with contextlib.suppress(Exception):  # else it is closed unanswered
                self._answer_with(conn, 500, None)
                return
        self._close(conn)

    def _accept(self) -> None:
        for _ in range(64):  # a batch, then back to the connections already open
            if room(self._conns.values(), self.limits, time.monotonic()) > 0.0:
                return
            try:
                sock, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: try again next turn
                self._note("accept", "accept failed: %s", exc, level=logging.WARNING)
                return
            sock.setblocking(False)
            self.stats["accepted"] += 1
            address = str(peer[0])
            if not self.allow.allows(address):
                self.stats["refused"] += 1
                self._note("refused", "refused %s (not on --osc-allow)", address)
                self._refuse(sock, 403)
                continue
            if len(self._conns) >= self.limits.max_connections:  # room(): one is past grace
                waiting = (c for c in self._conns.values() if c.out is None)
                oldest = min(waiting, key=lambda c: c.since)
                self.stats["evicted"] += 1
                self._note(
                    "evicted", "too many connections; closed %s's unfinished request", oldest.peer
                )
                self._close(oldest)
            conn = Connection(sock, address, time.monotonic())
            self._conns[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)
            # most clients send the request with the connect: answer it now
            self._guarded(conn, self._read)

    def _refuse(self, sock: socket.socket, status: int) -> None:
        """One try at a short answer, then close: a refused peer holds nothing here."""
        with contextlib.suppress(OSError):
            sock.send(response(status, error_body(status)))
            sock.shutdown(socket.SHUT_WR)
            sock.recv(4096)  # what already came, so the close is a FIN more often than a RST
        sock.close()

    def _read(self, conn: Connection) -> None:
        data = conn.sock.recv(4096)
        if not data:
            self.stats["hung up"] += 1
            self._close(conn)
            return
        searched_from = max(0, len(conn.head) - 3)
        conn.head += data
        request = parse_head(conn.head, searched_from, self.limits)
        if request is None:  # not all there yet
            return
        if isinstance(request, int):
            self._answer_with(conn, request, None)
            return
        method, target = request
        self.stats["requests"] += 1
        status, body = self.answer(target)
        self._answer_with(conn, status, body, head_only=method == b"HEAD")

    def _answer_with(
        self, conn: Connection, status: int, body: bytes | None, head_only: bool = False
    ) -> None:
        if status >= 400 and body is None:
            body = error_body(status)
        if status in (400, 405, 431):
            self.stats["bad requests"] += 1
            self._note("bad request", "%s from %s", status, conn.peer)
        conn.head = bytearray()  # the request is done with; keep nothing of it
        conn.out = memoryview(response(status, body, head_only))
        self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        self._write(conn)

    def _write(self, conn: Connection) -> None:
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

    def _gone(self, conn: Connection, exc: OSError) -> None:
        self.stats["went away"] += 1
        self._note(
            "went away",
            "%s went away mid-request (%s)",
            conn.peer,
            type(exc).__name__,
            level=logging.DEBUG,
        )
        self._close(conn)

    def _expire(self, now: float) -> None:
        late = [c for c in self._conns.values() if now - c.since >= self.limits.timeout]
        for conn in late:
            self.stats["timed out"] += 1
            self._note(
                "timed out",
                "closed %s after %.0f s without a finished exchange",
                conn.peer,
                self.limits.timeout,
            )
            self._close(conn)

    def _close(self, conn: Connection) -> None:
        if self._conns.pop(conn.sock, None) is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        conn.sock.close()
