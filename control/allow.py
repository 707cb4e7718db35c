"""Who may talk to the instrument: one allow-list that every listener asks.

``--osc-allow`` entries are addresses (``10.0.0.5``, ``::1``), networks (``10.0.0.0/8``)
or host names (``localhost``, ``tablet.local``). Names are resolved once, at start;
a name that does not resolve is refused with a :class:`ValueError` naming it, never
kept as a pattern that silently matches nothing.

Addresses are compared as :mod:`ipaddress` values, so ``::ffff:127.0.0.1`` (what an
IPv4 sender looks like on a dual-stack ``::`` socket) is ``127.0.0.1``.

The instrument's own machine is trusted: loopback senders (127.0.0.0/8, ::1) are always
allowed, because anything running there can already read the takes and the patches,
and the performer's own tools (a local Max patch, Chataigne, a browser looking at
OSCQuery) keep working when a tablet is added to the list. ``trust_loopback=False``
makes the list exact (the tests use it to be refused from 127.0.0.1).

Being heard is not being trusted: :meth:`AllowList.trusts` (whose replies and feedback
are not bound to the bytes they sent, :mod:`control.osc_feedback`) holds only for
loopback and for single hosts on the list (an address, a /32 or /128, a name), never
for a host admitted only through a network entry: ``0.0.0.0/0`` lets everyone play but
keeps everyone's replies bound, so the instrument cannot be used to amplify a flood.

With no list at all everyone who can reach the port is heard, as before;
:func:`open_warning` says so once when the listener is not on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CACHE_SIZE = 1024  # answers remembered; a flood of fresh addresses only evicts old ones


def normalise(address: str) -> Address | None:
    """An address as sockets give it (maybe v4-mapped, maybe with %scope), or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback(host: str) -> bool:
    """Whether a listen address only reaches this machine ("localhost" included)."""
    ip = normalise(host)
    return host == "localhost" if ip is None else ip.is_loopback


def _entry(text: str) -> list[Network]:
    entry = text.strip()
    if not entry:
        raise ValueError(f"allowed sender {text!r}: expected an address, a network or a name")
    try:
        net = ipaddress.ip_network(entry.split("%", 1)[0], strict=False)
    except ValueError:
        pass
    else:
        if isinstance(net, ipaddress.IPv6Network) and net.prefixlen == 128:
            mapped = net.network_address.ipv4_mapped
            if mapped is not None:
                return [ipaddress.ip_network(mapped)]
        return [net]
    if "/" in entry:
        raise ValueError(f"allowed sender {text!r}: not a network like 10.0.0.0/8")
    try:
        found = socket.getaddrinfo(entry, None)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise ValueError(f"allowed sender {text!r}: cannot resolve the name ({reason})") from None
    nets = []
    for info in found:
        ip = normalise(str(info[4][0]))
        if ip is not None:
            nets.append(ipaddress.ip_network(ip))
    if not nets:
        raise ValueError(f"allowed sender {text!r}: the name has no IP address")
    return sorted(set(nets), key=str)


@dataclass(frozen=True)
class AllowList:
    """Senders allowed; ``networks=None`` means everyone (no list was given)."""

    networks: tuple[Network, ...] | None
    trust_loopback: bool = True

    @classmethod
    def parse(cls, entries: Iterable[str] | None, trust_loopback: bool = True) -> AllowList:
        """From ``--osc-allow`` entries; None or empty: everyone. Names resolve now."""
        texts = list(entries or [])
        if not texts:
            return cls(None, trust_loopback)
        nets: list[Network] = []
        for text in texts:
            nets += _entry(text)
        return cls(tuple(dict.fromkeys(nets)), trust_loopback)

    @property
    def everyone(self) -> bool:
        return self.networks is None

    def allows(self, address: str) -> bool:
        """Whether a peer address (as the socket reports it) may be heard."""
        return self.networks is None or _matches(
            self.networks, self.trust_loopback, address, single_hosts=False
        )

    def trusts(self, address: str) -> bool:
        """Whether a peer is a single host the list names (or loopback, when trusted):
        only those get replies beyond what they sent. A network entry admits, never
        trusts: a source address in a wide network is too easily spoofed."""
        return self.networks is not None and _matches(
            self.networks, self.trust_loopback, address, single_hosts=True
        )

    def describe(self) -> str:
        if self.networks is None:
            return "everyone"
        names = ", ".join(str(n) for n in self.networks)
        return names + (" and this machine" if self.trust_loopback else "")


@lru_cache(maxsize=_CACHE_SIZE)  # parsing an address costs more than a packet
def _matches(
    networks: tuple[Network, ...], trust_loopback: bool, address: str, single_hosts: bool
) -> bool:
    """Whether ``address`` is loopback (when trusted) or in one of ``networks`` (only
    the single-host ones, with ``single_hosts``)."""
    ip = normalise(address)
    if ip is None:
        return False
    if trust_loopback and ip.is_loopback:
        return True
    return any(
        ip.version == net.version
        and (not single_hosts or net.prefixlen == net.max_prefixlen)
        and ip in net
        for net in networks
    )


def open_warning(allow: AllowList, host: str) -> str | None:
    """The one warning to give when listening beyond this machine with no list; else None."""
    if allow.everyone and not is_loopback(host):
        return (
            f"listening on {host} with no --osc-allow: anyone on the network can play "
            "the instrument and read its state (OSC and OSCQuery)"
        )
    return None
