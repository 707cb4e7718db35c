"""The OSC address space, as protocol logic: datagram bytes in, events and replies out.

Nothing here touches a socket (``osc_server.py`` moves the bytes). Addresses come from
the parameter registry, plus a few commands::

    /performer/<param> <value>      set a parameter (int, float, double; T/F as 1/0)
    /performer/prompt "text" ...    several strings are joined with spaces (Max lists)
    /performer/scene <n|name>       launch a scene
    /performer/learn <param>        arm MIDI learn for a parameter
    /performer/learn/save           write what was learned to patches/learned/<patch>.toml
    /performer/record/start, /performer/record/stop
    /performer/tap                  tap tempo
    /performer/probe                capture the current frame's statistics
    /performer/ip/grab              the picture becomes the IP-Adapter's image prompt
    /performer/get <param>          reply with /performer/<param> <value>
    /performer/hello <port>         register for feedback on <port>; full state is sent

Any address outside ``/performer/`` becomes an ``osc:<address>`` event that mappings
can use; its arguments must be numbers, booleans or text (blobs, time tags, MIDI,
arrays and nil are refused, so every event is plain JSON for the take's log). Bundles
are applied together, at their time tag, on the performance clock; a bundle due more
than ``MAX_AHEAD`` (60 s) ahead is refused, and bundles nest at most 8 deep
(:mod:`control.osc_packet`).

Feedback (:mod:`control.osc_feedback`): a hello lasts 60 s after the sender's last
datagram, so a controller that only listens re-sends its hello at least once a minute;
a sender's new hello replaces its old one; each target gets a bounded rate; a sender
off this machine gets back at most 4x the bytes it sent. The changes a controller hears
back are sent from their own thread (:mod:`control.osc_sender`).

Bad input is counted by kind and logged at most once a second per kind, with how many
lines were left out, whoever sent it. python-osc parses nothing here
(:mod:`control.osc_packet` does), so its warnings ("Unhandled parameter type", which it
logs only while parsing) cannot come from a sender; the one use left, building a blob
or nil in :func:`encode`, parses only types it wrote itself and never warns.
None of it reaches the model, and no datagram makes :meth:`OscRouter.handle` raise.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from performer.control.allow import is_loopback
from performer.control.clock import Clock
from performer.control.events import Event, Inbox
from performer.control.osc_feedback import Feedback
from performer.control.osc_packet import IMMEDIATELY, PacketError, encode, unpack
from performer.control.param import MAX_TEXT, ParamError
from performer.control.params import REGISTRY, ParamStore, param
from performer.control.throttle import Throttle

log = logging.getLogger(__name__)

PREFIX = "/performer/"
COMMANDS = {
    "scene",
    "learn",
    "learn/save",
    "record/start",
    "record/stop",
    "tap",
    "probe",
    "ip/grab",
    "get",
    "hello",
}
MAX_AHEAD = 60.0  # seconds a bundle may be scheduled ahead: a cue list, not a calendar
MAX_ADDRESS = 256  # characters in an address (a mapping's source name)
MAX_ARGS = 64  # arguments of one message outside /performer/
Sender = tuple[str, int]


def _printable(text: object, limit: int = 120) -> str:
    """``text`` for one log line: control characters escaped, no megabytes."""
    shown = text if isinstance(text, str) else repr(text)
    if not shown.isprintable():
        shown = ascii(shown)[1:-1]
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class Complaints:
    """Counts bad input by kind; logs each kind at most once a second (``clock``).

    The limit is keyed by the kind of problem only, never by who sent it: fresh source
    ports or addresses cannot defeat it. Each line says how many were left out.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._throttle = Throttle(1.0, max_keys=64, clock=clock)

    def __call__(self, kind: str, where: str, detail: str) -> None:
        with self._lock:  # the server thread and the frame loop both complain
            self.counts[kind] += 1
            count = self.counts[kind]
        skipped = self._throttle.allow(kind)
        if skipped is None:
            return
        log.warning(
            "OSC %s at %s: %s (%d so far%s)",
            kind,
            _printable(where, 100),
            _printable(detail, 200),
            count,
            f"; {skipped} more lines like it left out" if skipped else "",
        )


class OscRouter:
    """Turns datagrams into events for the frame loop and replies for the sender."""

    def __init__(
        self,
        inbox: Inbox,
        clock: Clock,
        store: ParamStore,
        trusts: Callable[[str], bool] = is_loopback,
    ):
        self.inbox, self.clock, self.store = inbox, clock, store
        self.complaints = Complaints()
        # registrations and send budgets; ``trusts`` says whose replies are unbounded
        self.registry = Feedback(trusts)

    def trust(self, allowed: Callable[[str], bool]) -> None:
        """Also trust the hosts ``allowed`` accepts (an explicit allow-list): their
        replies are not bound to the bytes they sent. Loopback is always trusted."""
        self.registry.trusts = lambda host: is_loopback(host) or allowed(host)

    def handle(self, data: bytes, sender: Sender) -> list[tuple[bytes, Sender]]:
        """Handle one datagram; returns the replies to send (bytes, address). Never
        raises: whatever a packet does is counted and logged, and the show goes on."""
        try:
            return self._handle(data, sender)
        except Exception as exc:  # a bug here must not end the OSC server thread
            self.complaints(
                "internal error", f"{sender[0]}:{sender[1]}", f"{type(exc).__name__}: {exc}"
            )
            log.debug("OSC packet from %s:%s failed", *sender, exc_info=True)
            return []

    def _handle(self, data: bytes, sender: Sender) -> list[tuple[bytes, Sender]]:
        wall_now, perf_now = time.time(), self.clock.now()
        self.registry.heard(sender, len(data), perf_now)
        where = f"{sender[0]}:{sender[1]}"
        try:
            messages = unpack(data)
        except PacketError as exc:
            self.complaints(exc.kind, where, str(exc))
            return []
        latest = max((t for t, _ in messages if t != IMMEDIATELY), default=IMMEDIATELY)
        if latest - wall_now > MAX_AHEAD:
            # time tags are wall-clock times: a sender whose clock runs fast lands here
            # with every bundle, so the line names that cause first
            self.complaints(
                "bundle too far ahead",
                where,
                f"bundle due {latest - wall_now:.0f} s ahead: more than {MAX_AHEAD:g} s; "
                "is the sender's clock ahead of this machine's?",
            )
            return []
        origin = f"udp:{where}"
        due = perf_now + max(0.0, latest - wall_now) if latest != IMMEDIATELY else perf_now
        replies: list[tuple[bytes, Sender]] = []
        bundle: list[tuple[str, Any]] = []
        for _, message in messages:
            address, values = message.address, message.params
            if message.refused:
                self.complaints(message.refused, address, message.why)
                continue
            refused = _refuse(address, values)
            if refused:
                self.complaints(refused, address, f"values {_printable(values)}")
                continue
            if not address.startswith(PREFIX):
                bundle.append((f"osc:{address}", values[0] if len(values) == 1 else tuple(values)))
                continue
            name = address[len(PREFIX) :]
            if name in COMMANDS:
                replies += self._command(name, values, sender, origin, perf_now)
            elif name in REGISTRY:
                value = self._value(name, values, address)
                if value is not None:
                    bundle.append((f"param:{name}", value))
            else:
                self.complaints("unknown address", address, "no such parameter or command")
        if data.startswith(b"#bundle"):  # one event, applied together at its time tag
            if bundle:
                event = Event(due, "bundle", tuple(bundle), origin=origin)
                self.inbox.put(event, coalesce=False, scheduled=due > perf_now)
        else:
            for source, value in bundle:
                self.inbox.put(Event(due, source, value, origin=origin))
        return replies

    def _value(self, name: str, values: list[Any], address: str) -> Any:
        p = param(name)
        if p.kind == "str":
            if not values or not all(isinstance(v, str) for v in values):
                self.complaints("wrong type", address, f"expected text, got {_printable(values)}")
                return None
            return p.clamp(" ".join(values))  # the registry bounds its length
        if len(values) != 1:
            self.complaints("wrong type", address, f"expected one number, got {_printable(values)}")
            return None
        value = float(values[0]) if isinstance(values[0], bool) else values[0]
        try:
            clamped = p.clamp(value)
        except ParamError as exc:
            self.complaints("rejected value", address, str(exc))
            return None
        if clamped != value:
            self.complaints("clamped value", address, f"{value!r} -> {clamped!r}")
        return clamped

    def _command(
        self, name: str, values: list[Any], sender: Sender, origin: str, now: float
    ) -> list[tuple[bytes, Sender]]:
        address = PREFIX + name
        one = values[0] if len(values) == 1 else None
        if name == "get":
            if isinstance(one, str) and one in REGISTRY:
                reply = encode(PREFIX + one, self.store.get(one))
                return self._send([reply], sender, now, "reply withheld")
            self.complaints(
                "wrong type", address, f"expected a parameter name, got {_printable(values)}"
            )
        elif name == "hello":
            if not isinstance(one, int) or isinstance(one, bool) or not 0 < one < 65536:
                self.complaints(
                    "wrong type", address, f"expected a port number, got {_printable(values)}"
                )
                return []
            refused = self.registry.register(sender, one, now)
            if refused:
                self.complaints("controller refused", address, refused)
                return []
            return self._send(self.state_messages(), (sender[0], one), now, "reply withheld")
        elif name == "learn":
            if isinstance(one, str) and one in REGISTRY:
                self.inbox.put(Event(now, "learn", one, origin=origin), command=True)
            else:
                self.complaints(
                    "wrong type",
                    address,
                    f"expected a parameter name, got {_printable(values)}",
                )
        elif name == "scene":
            if isinstance(one, int | str) and not isinstance(one, bool) and _finite(values):
                self.inbox.put(Event(now, "scene", one, origin=origin), command=True)
            else:
                self.complaints(
                    "wrong type",
                    address,
                    f"expected a scene number or name, got {_printable(values)}",
                )
        else:  # learn/save, record/start, record/stop, tap, probe, ip/grab: no arguments
            # their own part of the inbox: no flood of bundles can keep them out
            self.inbox.put(Event(now, name, True, origin=origin), command=True)
        return []

    def _send(
        self, messages: list[bytes], target: Sender, now: float, kind: str
    ) -> list[tuple[bytes, Sender]]:
        allowed = self.registry.allow(messages, target, now)
        if len(allowed) < len(messages):
            self.complaints(
                kind,
                f"{target[0]}:{target[1]}",
                f"{len(messages) - len(allowed)} of {len(messages)} messages over its budget",
            )
        return [(m, target) for m in allowed]

    def state_messages(self) -> list[bytes]:
        snap = self.store.snapshot()
        return [encode(p.address, snap[p.name]) for p in REGISTRY.values()]


def _refuse(address: str, values: list[Any]) -> str:
    """Why a message is refused before it means anything, or ''."""
    if len(address) > MAX_ADDRESS or not address.isprintable():
        return "bad address"
    # only plain data reaches events (and the take's JSON log); osc_packet decodes no
    # other kind, and this keeps it so
    if not all(isinstance(v, bool | int | float | str) for v in values):
        return "unsupported argument"
    if not address.startswith(PREFIX):
        text = sum(len(v) for v in values if isinstance(v, str))
        if not address.startswith("/") or len(values) > MAX_ARGS or text > MAX_TEXT:
            return "bad message"
        if not _finite(values):
            return "bad message"
    return ""


def _finite(values: list[Any]) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for v in values)
