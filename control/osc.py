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
    /performer/get <param>          reply with /performer/<param> <value>
    /performer/hello <port>         register for feedback on <port>; full state is sent

Any address outside ``/performer/`` becomes an ``osc:<address>`` event that mappings
can use. Bundles are applied together, at their time tag, on the performance clock.
Bad input is counted and logged at most once per address per second; none of it
reaches the model.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from performer.clock import Clock
from performer.events import Event, Inbox
from performer.params import REGISTRY, ParamError, ParamStore, param

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
    "get",
    "hello",
}
Sender = tuple[str, int]


def encode(address: str, *values: Any) -> bytes:
    """One OSC message as bytes (floats are sent as 32-bit floats)."""
    builder = OscMessageBuilder(address=address)
    for value in values:
        builder.add_arg(value)
    return builder.build().dgram


@dataclass
class Complaints:
    """Counts bad input by kind and address; logs each (kind, address) at most once a second."""

    counts: Counter[str] = field(default_factory=Counter)
    _last: dict[tuple[str, str], float] = field(default_factory=dict)

    def __call__(self, kind: str, address: str, detail: str) -> None:
        self.counts[kind] += 1
        now = time.monotonic()
        key = (kind, address)
        if now - self._last.get(key, -math.inf) >= 1.0:
            if len(self._last) > 10_000:  # bounded even under a flood of random addresses
                self._last.clear()
            self._last[key] = now
            log.warning("OSC %s at %s: %s (%d so far)", kind, address, detail, self.counts[kind])


class OscRouter:
    """Turns datagrams into events for the frame loop and replies for the sender."""

    def __init__(self, inbox: Inbox, clock: Clock, store: ParamStore):
        self.inbox, self.clock, self.store = inbox, clock, store
        self.complaints = Complaints()
        # reply address -> the origin that registered it (so its own changes aren't echoed)
        self.controllers: dict[Sender, str] = {}
        self.max_controllers = 32

    def handle(self, data: bytes, sender: Sender) -> list[tuple[bytes, Sender]]:
        """Handle one datagram; returns the replies to send (bytes, address)."""
        try:
            messages = OscPacket(data).messages
        except (ParseError, ValueError, IndexError, struct.error, OverflowError) as exc:
            self.complaints("malformed packet", f"{sender[0]}:{sender[1]}", str(exc)[:120])
            return []
        origin = f"udp:{sender[0]}:{sender[1]}"
        replies: list[tuple[bytes, Sender]] = []
        bundle: list[tuple[str, Any]] = []
        wall_now, perf_now = time.time(), self.clock.now()
        due = perf_now
        for timed in messages:
            due = max(due, perf_now + (timed.time - wall_now))
            address, values = timed.message.address, list(timed.message.params)
            if not address.startswith(PREFIX):
                if address.startswith("/") and _finite(values):
                    bundle.append(
                        (f"osc:{address}", values[0] if len(values) == 1 else tuple(values))
                    )
                else:
                    self.complaints("bad message", address, f"values {values!r}")
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
                self.inbox.put(Event(due, "bundle", tuple(bundle), origin=origin), coalesce=False)
        else:
            for source, value in bundle:
                self.inbox.put(Event(due, source, value, origin=origin))
        return replies

    def _value(self, name: str, values: list[Any], address: str) -> Any:
        p = param(name)
        if p.kind == "str":
            if not values or not all(isinstance(v, str) for v in values):
                self.complaints("wrong type", address, f"expected text, got {values!r}")
                return None
            return " ".join(values)
        if len(values) != 1:
            self.complaints("wrong type", address, f"expected one number, got {values!r}")
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
        if name == "get":
            if len(values) == 1 and values[0] in REGISTRY:
                return [(encode(PREFIX + values[0], self.store.get(values[0])), sender)]
            self.complaints("wrong type", address, f"expected a parameter name, got {values!r}")
        elif name == "hello":
            port = values[0] if len(values) == 1 else None
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                self.complaints("wrong type", address, f"expected a port number, got {values!r}")
            elif len(self.controllers) >= self.max_controllers:
                self.complaints("rejected value", address, "too many controllers registered")
            else:
                self.controllers[(sender[0], port)] = origin
                return [(m, (sender[0], port)) for m in self.state_messages()]
        elif name == "learn":
            if len(values) == 1 and values[0] in REGISTRY:
                self.inbox.put(Event(now, "learn", values[0], origin=origin), coalesce=False)
            else:
                self.complaints("wrong type", address, f"expected a parameter name, got {values!r}")
        elif name == "scene":
            if len(values) == 1 and isinstance(values[0], int | str) and _finite(values):
                self.inbox.put(Event(now, "scene", values[0], origin=origin), coalesce=False)
            else:
                self.complaints(
                    "wrong type", address, f"expected a scene number or name, got {values!r}"
                )
        else:  # learn/save, record/start, record/stop, tap, probe: no arguments needed
            self.inbox.put(Event(now, name, True, origin=origin), coalesce=False)
        return []

    def state_messages(self) -> list[bytes]:
        snap = self.store.snapshot()
        return [encode(p.address, snap[p.name]) for p in REGISTRY.values()]

    def feedback(
        self, changes: Iterable[tuple[str, Any]], origin: str
    ) -> list[tuple[bytes, Sender]]:
        """Messages telling every registered controller but ``origin`` about ``changes``."""
        targets = [
            target
            for target, registered_by in self.controllers.items()
            if origin not in (registered_by, f"udp:{target[0]}:{target[1]}")
        ]
        out = []
        for name, value in changes:
            message = encode(PREFIX + name, value)
            out += [(message, target) for target in targets]
        return out


def _finite(values: list[Any]) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for v in values)
