"""HTTP/1.1 for OSCQuery's listener, as protocol logic: the limits and when a newcomer
gets in, the request head parsed from bytes, the answer as bytes. Nothing here reads or
writes a socket (:mod:`control.http_listener` moves the bytes).

- at most ``max_connections`` (128) open at once. Past the cap newcomers wait in the
  listen backlog (128, not 5), and each one taken evicts the oldest connection that
  has been sending its request for more than ``grace`` (0.1 s): a slowloris client,
  since a real one sends its request within milliseconds of connecting. Connections
  being answered are never evicted; they finish or time out on their own;
- every connection is closed ``timeout`` (3 s) after it was accepted, whatever it
  is doing, so a trickle of bytes cannot keep it open;
- a request head is at most ``header_bytes`` and ``header_lines`` (431 past that);
  the request line must be ``METHOD TARGET HTTP/1.x`` (400 otherwise), and only GET
  and HEAD are served (405).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Collection
from dataclasses import dataclass

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


class Connection:
    """One client: its request head so far, then the answer still to write."""

    __slots__ = ("head", "out", "peer", "since", "sock")

    def __init__(self, sock: socket.socket, peer: str, since: float):
        self.sock, self.peer, self.since = sock, peer, since
        self.head = bytearray()
        self.out: memoryview | None = None  # set once the request is answered


def error_body(status: int) -> bytes:
    return b'{"error": "' + REASONS.get(status, "Error").encode() + b'"}'


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


# (method, target) of a request whose head is complete and good
Request = tuple[bytes, str]


def parse_head(head: bytearray, searched_from: int, limits: Limits) -> Request | int | None:
    """The request in ``head`` (the bytes so far; its end not before ``searched_from``):
    its (method, target), the status refusing it (400, 405, 431), or None while the
    head is not all there."""
    end = head.find(b"\r\n\r\n", searched_from)
    if end < 0:
        return 431 if len(head) > limits.header_bytes else None
    if end > limits.header_bytes:
        return 431
    lines = bytes(head[:end]).split(b"\r\n")
    if len(lines) - 1 > limits.header_lines:
        return 431
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return 400
    method, target = parts[0], parts[1].decode("latin-1")
    if method not in (b"GET", b"HEAD"):
        return 405
    return method, target


def room(conns: Collection[Connection], limits: Limits, now: float) -> float:
    """0 when a newcomer can be taken now; else seconds until one can (inf: when a
    connection being answered finishes). Past the cap, a request still being sent after
    ``grace`` gives way to a newcomer."""
    if len(conns) < limits.max_connections:
        return 0.0
    waiting = [c.since for c in conns if c.out is None]
    if not waiting:
        return math.inf
    return max(0.0, min(waiting) + limits.grace - now)
