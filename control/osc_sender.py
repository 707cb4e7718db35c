"""OSC feedback on its own thread: the latest value of each parameter, per controller.

The session tells the OSC server of every applied change on the display's thread. That
thread must never wait on a socket, so :meth:`FeedbackSender.queue` only notes the
latest value per (controller, parameter) and wakes the sender's thread, which encodes,
applies each controller's budgets (:mod:`control.osc_feedback`) and sends. The queue
coalesces: a burst of changes to one parameter holds one value, so it is bounded by
the controllers registered times the parameters, however fast the changes come.

What a controller's budget holds back is kept too (its latest value per parameter) and
goes with its next feedback, or within ``FLUSH_S`` (0.2 s) once the budget refills; a
newer value supersedes a held one, so a fader never stays on a stale value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from performer.control.osc import PREFIX, OscRouter, Sender
from performer.control.osc_packet import encode
from performer.control.throttle import RateLog

log = logging.getLogger(__name__)

Send = Callable[[list[tuple[bytes, Sender]]], None]

FLUSH_S = 0.2  # send what the budgets held back at least this often
MAX_QUEUED = 4096  # (controller, parameter) values waiting: 32 controllers x the registry
MAX_WITHHELD_TARGETS = 64  # controllers with values held back (32 can be registered)


class FeedbackSender:
    """Tells registered controllers about changes, from its own thread.

    :meth:`queue` is for any thread and never blocks on I/O; :meth:`feedback` and
    :meth:`flush` are the protocol logic (changes in, datagrams out, no socket) that
    the thread runs, and that tests call directly without starting it.
    """

    def __init__(self, router: OscRouter, send: Send | None = None):
        self.router, self.send = router, send
        self.failures = 0  # rounds whose sending raised (the thread went on)
        # per target, the latest value of each parameter its budget held back: sent with
        # its next feedback or by flush(); only the sender's thread touches it
        self._withheld: dict[Sender, dict[str, Any]] = {}
        self._queued: dict[tuple[Sender, str], Any] = {}  # the latest value, not yet tried
        self._wake = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._ratelog = RateLog(log)

    # any thread -------------------------------------------------------------------

    def queue(self, changes: Iterable[tuple[str, Any]], origin: str) -> None:
        """Note ``changes`` for every registered controller but ``origin``'s, for the
        sender's thread; returns at once."""
        targets = self.router.registry.targets(origin, self.router.clock.now())
        if not targets:
            return
        dropped = 0
        with self._wake:
            for name, value in changes:
                for target in targets:
                    key = (target, name)
                    if key in self._queued or len(self._queued) < MAX_QUEUED:
                        self._queued[key] = value
                    else:
                        dropped += 1
            self._wake.notify()
        if dropped:
            self.router.complaints("feedback queue full", origin, f"{dropped} values dropped")

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="osc-feedback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (what is still queued is not sent); safe to call twice."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # the sender's thread ----------------------------------------------------------

    def _run(self) -> None:
        flushed = time.monotonic()
        while True:
            with self._wake:
                if not self._queued and not self._stop:
                    self._wake.wait(FLUSH_S)
                if self._stop:
                    return
                queued, self._queued = self._queued, {}
            try:
                out = self._send_queued(queued) if queued else []
                if time.monotonic() - flushed >= FLUSH_S:
                    out += self.flush()
                    flushed = time.monotonic()
                if out and self.send is not None:
                    self.send(out)
            except Exception as exc:  # feedback is a courtesy: it never ends the thread
                self.failures += 1
                name = type(exc).__name__
                self._ratelog("send failed", "OSC feedback raised %s: %.200s", name, exc)

    def _send_queued(self, queued: dict[tuple[Sender, str], Any]) -> list[tuple[bytes, Sender]]:
        """The queued values, per controller still registered, under its budgets."""
        by_target: dict[Sender, list[tuple[str, Any]]] = {}
        for (target, name), value in queued.items():
            by_target.setdefault(target, []).append((name, value))
        now = self.router.clock.now()
        live = set(self.router.registry.targets("", now))  # a hello may have expired since
        out: list[tuple[bytes, Sender]] = []
        for target, changes in by_target.items():
            if target in live:
                messages = [encode(PREFIX + name, value) for name, value in changes]
                out += self._send_latest(target, changes, messages, now)
        return out

    def feedback(
        self, changes: Iterable[tuple[str, Any]], origin: str
    ) -> list[tuple[bytes, Sender]]:
        """Messages telling every registered controller but ``origin`` about ``changes``."""
        now = self.router.clock.now()
        targets = self.router.registry.targets(origin, now)
        if not targets:
            return []
        changes = list(changes)
        messages = [encode(PREFIX + name, value) for name, value in changes]
        out: list[tuple[bytes, Sender]] = []
        for target in targets:
            out += self._send_latest(target, changes, messages, now)
        return out

    def flush(self) -> list[tuple[bytes, Sender]]:
        """The values held back from controllers, as far as their budgets allow now."""
        if not self._withheld:
            return []
        now = self.router.clock.now()
        live = set(self.router.registry.targets("", now))
        for target in [t for t in self._withheld if t not in live]:
            del self._withheld[target]  # registrations that went: nothing to keep for them
        out: list[tuple[bytes, Sender]] = []
        for target in list(live):
            out += self._send_latest(target, [], [], now)
        return out

    def _send_latest(
        self,
        target: Sender,
        changes: list[tuple[str, Any]],
        messages: list[bytes],
        now: float,
    ) -> list[tuple[bytes, Sender]]:
        """``changes`` to ``target``, after what its budget held back before (unless a
        change supersedes it); what the budget holds back now waits for next time."""
        earlier = self._withheld.pop(target, {})
        names = {name for name, _ in changes}
        pending = [(n, v) for n, v in earlier.items() if n not in names]
        items = pending + changes
        encoded = [encode(PREFIX + n, v) for n, v in pending] + messages
        allowed: list[bytes] = []
        later: dict[str, Any] = {}
        for (name, value), message in zip(items, encoded, strict=True):
            if self.router.registry.allow([message], target, now):
                allowed.append(message)
                later.pop(name, None)  # a newer value went: the held one is stale
            else:
                later[name] = value
        if later and len(self._withheld) < MAX_WITHHELD_TARGETS:
            self._withheld[target] = later
        if later and messages:  # a flush that still cannot send is not a new complaint
            self.router.complaints(
                "feedback withheld",
                f"{target[0]}:{target[1]}",
                f"{len(later)} of {len(encoded)} values over its budget; "
                "their latest go with the next",
            )
        return [(m, target) for m in allowed]
