"""The OSC UDP server: moves datagrams between the socket and :class:`OscRouter`.

It binds to 127.0.0.1 unless a host is given; an :class:`~control.allow.AllowList`
(the same one OSCQuery asks) limits which senders are heard. The thread only receives,
hands bytes to the router (which only enqueues) and sends replies: it never sleeps on a
bundle or waits on the frame loop, and no packet can end it: whatever handling one
raises is logged (once a second, with a count) and the next packet is read.

Feedback (the changes registered controllers hear back) goes out from a thread of its
own (:class:`~control.osc_sender.FeedbackSender`), so the thread that applied the
changes, the display's, never waits on a socket.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterable
from typing import Any

from performer.control.allow import AllowList
from performer.control.osc import OscRouter, Sender
from performer.control.osc_sender import FeedbackSender
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)


class OscServer:
    def __init__(
        self,
        router: OscRouter,
        host: str = "127.0.0.1",
        port: int = 9000,
        allow: AllowList | Iterable[str] | None = None,
    ):
        self.router = router
        self.host, self.port = host, port
        self.allow = allow if isinstance(allow, AllowList) else AllowList.parse(allow)
        self.received = 0
        self.failures = 0  # packets whose handling raised (the server went on)
        self._ratelog = RateLog(log)
        self.feedback_sender = FeedbackSender(router, self.send)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def address(self) -> Sender:
        """Where it listens (the real port, when started with port 0)."""
        assert self._sock is not None, "start() first"
        host, port = self._sock.getsockname()[:2]
        return host, port

    def start(self) -> None:
        if self._thread is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        # a bigger receive buffer rides out bursts (a TouchDesigner table sent at once);
        # the kernel caps it at net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        if family == socket.AF_INET6:  # "::" hears IPv4 too (as ::ffff:a.b.c.d), as
            # OSCQuery does; some platforms default to v6 only, a few cannot change it
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno,
                f"cannot listen for OSC on {self.host}:{self.port}: {exc.strerror} "
                "(is another performer running? try --osc-port)",
            ) from None
        sock.settimeout(0.2)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="osc-server", daemon=True)
        self._thread.start()
        self.feedback_sender.start()
        log.info("OSC listening on %s:%d", *self.address)

    def stop(self) -> None:
        self._stop.set()
        self.feedback_sender.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, messages: Iterable[tuple[bytes, Sender]]) -> None:
        """Send datagrams; a controller that went away is not an error worth stopping for."""
        sock = self._sock
        if sock is None:
            return
        for data, target in messages:
            try:
                sock.sendto(data, target)
            except OSError as exc:
                log.debug("OSC reply to %s:%d failed: %s", target[0], target[1], exc)

    def feedback(self, changes: Iterable[tuple[str, Any]], origin: str) -> None:
        """Tell registered controllers (but the one that made them) about ``changes``,
        from the feedback thread: returns at once, whatever the network does."""
        self.feedback_sender.queue(changes, origin)

    def _run(self) -> None:
        assert self._sock is not None
        sock = self._sock
        while not self._stop.is_set():
            try:
                data, sender = sock.recvfrom(65535)
            except TimeoutError:  # quiet: look at the stop flag again
                continue
            except OSError as exc:  # e.g. ICMP port unreachable from an earlier reply
                if self._stop.is_set():
                    return
                log.debug("OSC receive: %s", exc)
                continue
            self.received += 1
            # whatever one packet does to the router, the show keeps its OSC
            try:
                if not self.allow.allows(sender[0]):
                    self.router.complaints("sender not allowed", sender[0], "not in --osc-allow")
                    continue
                self.send(self.router.handle(data, (sender[0], sender[1])))
            except Exception as exc:
                self.failures += 1
                self._ratelog(
                    "packet failed",
                    "OSC packet of %d bytes from %s raised %s: %.200s; still listening",
                    len(data),
                    sender[0],
                    type(exc).__name__,
                    exc,
                    level=logging.ERROR,
                )

    def __enter__(self) -> OscServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
