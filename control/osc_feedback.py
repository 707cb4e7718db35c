"""Who hears the instrument back over OSC, and how much: hellos, budgets, amplification.

``/performer/hello <port>`` registers its sender for feedback on ``<port>`` of the
sender's host. The rules, each against a way a show was silenced or used:

- A registration lasts ``lifetime`` (60 s) after the last datagram from its sender (a
  hello or any other message renews it), so slots taken by a burst of hellos come
  free again. A controller that only listens re-sends its hello at least once a
  minute.
- One registration per sender (host and source port) and per target: a sender's new
  hello replaces its old one, and a controller that restarts on a new source port
  does not get every change twice.
- At most ``max_controllers`` (32) in all and ``max_per_host`` (4) per host, so one
  machine cannot take every slot from the real controller; expired ones go first.
- When every slot is live, a new hello takes the slot of the registration renewed
  longest ago among those of untrusted hosts (not on loopback, not a single host named
  on the allow-list): a few hosts renewing 32 registrations (or spoofing them) cannot
  keep the real controller out for good. Registrations of trusted hosts are never
  taken; a new hello is refused only when every slot is held by a trusted host. A
  controller that must never lose its slot is named on ``--osc-allow``.
- Every target gets at most ``MESSAGES_PER_S`` messages and ``BYTES_PER_S`` bytes a
  second (token buckets whose burst holds the full state); the rest are withheld and
  counted. A controller misses intermediate values, never the instrument's time.
- A sender that is not on loopback and not trusted (an explicit allow-list) can make
  the instrument send at most ``AMPLIFICATION`` times the bytes it sent to it
  (replies and feedback alike), up to a saved credit of ``MAX_CREDIT``: a spoofed
  28-byte ``/performer/get prompt`` gets no 2 KB prompt back, so the instrument is no
  use for reflecting floods at someone else.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from performer.control.allow import is_loopback

Sender = tuple[str, int]

MESSAGES_PER_S = 240.0  # two changes a frame at 120 fps; the burst holds the full state
BYTES_PER_S = 64_000.0
AMPLIFICATION = 4  # bytes out per byte in, for untrusted hosts (reflection needs ~10x)
MAX_CREDIT = 64_000  # what an untrusted host can save up by sending a lot
_MAX_TRACKED = 1024  # targets and hosts with a budget; the oldest are forgotten


@dataclass
class _Bucket:
    rate: float
    burst: float
    level: float
    when: float

    def refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + max(0.0, now - self.when) * self.rate)
        self.when = now


@dataclass
class _Registration:
    target: Sender
    expires: float


class Feedback:
    """Registrations and send budgets; thread-safe (the server thread registers, the
    frame loop sends feedback)."""

    def __init__(
        self,
        trusts: Callable[[str], bool] = is_loopback,
        lifetime: float = 60.0,
        max_controllers: int = 32,
        max_per_host: int = 4,
    ):
        self.lifetime = lifetime
        self.max_controllers, self.max_per_host = max_controllers, max_per_host
        self._lock = threading.Lock()
        self._registered: dict[Sender, _Registration] = {}  # by the hello's sender
        self._buckets: OrderedDict[Sender, tuple[_Bucket, _Bucket]] = OrderedDict()
        self._credit: OrderedDict[str, int] = OrderedDict()  # untrusted host -> bytes
        self.trusts = trusts

    @property
    def trusts(self) -> Callable[[str], bool]:
        """Whose replies are not bound to what they sent (loopback, an allow-list)."""
        return self._trusts

    @trusts.setter
    def trusts(self, trusts: Callable[[str], bool]) -> None:
        self._trusts = trusts
        # asked per packet; parsing an address costs more than the packet
        self._is_trusted = lru_cache(maxsize=_MAX_TRACKED)(trusts)

    def heard(self, sender: Sender, size: int, now: float) -> None:
        """A datagram of ``size`` bytes came from ``sender``: renew, and earn credit."""
        with self._lock:
            registration = self._registered.get(sender)
            if registration is not None and registration.expires > now:
                registration.expires = now + self.lifetime
            if not self._is_trusted(sender[0]):
                credit = self._credit.pop(sender[0], 0)
                self._credit[sender[0]] = min(MAX_CREDIT, credit + AMPLIFICATION * size)
                if len(self._credit) > _MAX_TRACKED:
                    self._credit.popitem(last=False)  # forgetting only ever lowers credit

    def register(self, sender: Sender, port: int, now: float) -> str:
        """Register ``sender`` for feedback on ``port``; returns why not, or ''."""
        target = (sender[0], port)
        with self._lock:
            for key, registration in list(self._registered.items()):
                if registration.expires <= now or key == sender or registration.target == target:
                    del self._registered[key]
            same_host = sum(1 for key in self._registered if key[0] == sender[0])
            if same_host >= self.max_per_host:
                return f"{sender[0]} already has {self.max_per_host} controllers registered"
            if len(self._registered) >= self.max_controllers:
                # renewed longest ago = expires first (the lifetime is the same for all)
                untrusted = [k for k in self._registered if not self._is_trusted(k[0])]
                if not untrusted:
                    return f"all {self.max_controllers} controller slots are taken by trusted hosts"
                del self._registered[min(untrusted, key=lambda k: self._registered[k].expires)]
            self._registered[sender] = _Registration(target, now + self.lifetime)
        return ""

    def targets(self, origin: str, now: float) -> list[Sender]:
        """Where feedback goes: every live registration but the one ``origin`` made."""
        with self._lock:
            return [
                r.target
                for sender, r in self._registered.items()
                if r.expires > now
                and origin
                not in (f"udp:{sender[0]}:{sender[1]}", f"udp:{r.target[0]}:{r.target[1]}")
            ]

    def registered(self, now: float) -> dict[Sender, Sender]:
        """Live registrations: the hello's sender -> where its feedback goes."""
        with self._lock:
            return {s: r.target for s, r in self._registered.items() if r.expires > now}

    def allow(self, messages: list[bytes], target: Sender, now: float) -> list[bytes]:
        """The messages that ``target``'s budgets let through now, in order."""
        out: list[bytes] = []
        with self._lock:
            buckets = self._buckets.pop(target, None)
            if buckets is None:
                buckets = (
                    _Bucket(MESSAGES_PER_S, 2 * MESSAGES_PER_S, 2 * MESSAGES_PER_S, now),
                    _Bucket(BYTES_PER_S, 2 * BYTES_PER_S, 2 * BYTES_PER_S, now),
                )
            self._buckets[target] = buckets
            if len(self._buckets) > _MAX_TRACKED:
                self._buckets.popitem(last=False)
            count, size = buckets
            count.refill(now)
            size.refill(now)
            untrusted = not self._is_trusted(target[0])
            for message in messages:
                if count.level < 1 or size.level < len(message):
                    continue
                if untrusted:
                    if self._credit.get(target[0], 0) < len(message):
                        continue
                    self._credit[target[0]] -= len(message)
                count.level -= 1
                size.level -= len(message)
                out.append(message)
        return out
