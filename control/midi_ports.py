"""MIDI input ports through python-rtmidi, read by polling, for :mod:`control.midi`.

Why not mido's ports: mido's rtmidi backend always sets an rtmidi callback, so every
message runs Python in the MIDI system's thread; on JACK that is JACK's process
thread, which then waits for the GIL. And ``mido.get_input_names()`` opens a new
client each call. Measured on a JACK dummy server with a Python thread busy and
live audio in the same process (``bench/midi_jack.py`` for the whole show): opening
or closing a JACK client from Python stalls every Python thread for 0.5 to 1.5 s,
because rtmidi holds the GIL while JACK waits for the audio callback, which waits for
the GIL. Listing on a client that stays open takes 0.3 ms, and opening a port on it
16 ms, with no stall.

So a :class:`MidiSystem` lists ports on one client that lives as long as it does,
opens each port on a client of its own that it keeps after the port goes (a port
plugged back in reuses it), and holds ``SPARES`` spare clients, made before audio
runs, for ports plugged in later (a second controller, one with two ports). The
spares are topped up only where a stall is already paid for: at start-up and when the
system is rebuilt after its server came back (:meth:`MidiSystem.refill`). A port
that finds no spare mid-show gets a new client, with one warning that says why the
show may stall. Messages wait in rtmidi's own bounded
queue until :meth:`InPort.drain` takes them, with the time each arrived.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from typing import Any

MAX_CLIENTS = 16  # ports open at once (each has its own client), spares included
SPARES = 3  # clients kept ready for ports plugged in mid-show (virtual port not counted)
QUEUE = 1024  # messages rtmidi keeps per port until read: 30 s of a slider at 33/s
NAME = "performer"

log = logging.getLogger(__name__)

# Clients of a MIDI system that went away. Deleting them can crash the process (rtmidi
# on a dead JACK server frees a client JACK already freed), so they are kept here,
# never deleted, for the life of the process.
_ABANDONED: list[Any] = []


# what rtmidi raises (its errors are OSError, ValueError or RuntimeError too)
ERRORS = (OSError, ValueError, RuntimeError)


class MidiUnavailable(RuntimeError):
    """No MIDI backend or system here (e.g. no ALSA sequencer and no JACK)."""


def api_name() -> str | None:
    """The rtmidi API of mido's backend (``MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK``
    or ``mido.set_backend``), or None for the platform's default."""
    import mido

    if mido.backend.name != "mido.backends.rtmidi":
        raise MidiUnavailable(
            f"mido backend {mido.backend.name!r}: only mido.backends.rtmidi[/API] is played"
        )
    api: str | None = mido.backend.api
    return api


def _rtmidi_api(name: str | None) -> tuple[Any, int]:
    try:
        import rtmidi
    except ImportError:
        raise MidiUnavailable("no MIDI backend: pip install python-rtmidi") from None
    if name is None:
        api = rtmidi.API_UNSPECIFIED
        # rtmidi tries ALSA first on Linux; with no sequencer, alsa-lib prints its own
        # error line before ours, so look first
        if sys.platform.startswith("linux"):
            name = "LINUX_ALSA"
    if name is not None:
        api = getattr(rtmidi, f"API_{name}", None)
        if api is None or api not in rtmidi.get_compiled_api():
            raise MidiUnavailable(f"MIDI API {name!r} is not in this python-rtmidi")
    if name == "LINUX_ALSA" and not os.path.exists("/dev/snd/seq"):
        raise MidiUnavailable(
            "no ALSA sequencer here (/dev/snd/seq is missing: load snd-seq); on JACK, "
            "set MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK"
        )
    return rtmidi, api


def jack_server_socket() -> str:
    """Where JACK 2 keeps the server's socket: it goes when the server does."""
    server = os.environ.get("JACK_DEFAULT_SERVER", "default")
    folder = "/tmp" if sys.platform == "darwin" else "/dev/shm"
    return f"{folder}/jack_{server}_{os.getuid()}_0"


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISSOCK(info.st_mode) else None


def server_socket_exists() -> bool:
    return _identity(jack_server_socket()) is not None


class InPort:
    """One open input port; :meth:`drain` gives its messages with their arrival times."""

    def __init__(self, name: str, client: Any):
        self.name, self.client = name, client
        self._arrived: float | None = None  # the last message's arrival, performance clock
        self._empty_at = float("-inf")  # when the queue was last found empty

    def drain(self, now: float) -> list[tuple[list[int], float]]:
        """Messages waiting, oldest first, each with when it arrived: rtmidi gives the
        time since the one before; the estimate stays between the last empty look
        (it was not there yet) and ``now`` (clocks drift apart)."""
        out = []
        for _ in range(QUEUE):
            got = self.client.get_message()
            if got is None:
                break
            data, delta = got
            guess = now if self._arrived is None else self._arrived + delta
            self._arrived = min(max(guess, self._empty_at), now)
            out.append((data, self._arrived))
        self._empty_at = now
        return out


class MidiSystem:
    """One MIDI API's inputs: listing, opening and closing ports, never a callback."""

    def __init__(self, api: str | None = None):
        self.api = api
        self._rtmidi, self._api = _rtmidi_api(api)
        self._lister = self._client()  # long-lived: one client for every listing
        self._idle: list[Any] = []  # clients with no port: spares, and closed ports'
        self._open = 0
        self._settled = False  # after refill(): a new client now is a stall mid-show
        self._socket = None
        if api == "UNIX_JACK":
            self._socket = _identity(jack_server_socket())  # None: not JACK 2's layout

    def _client(self) -> Any:
        try:
            client = self._rtmidi.MidiIn(self._api, NAME, QUEUE)
        except self._rtmidi.RtMidiError as exc:  # e.g. "JACK server not running?"
            raise MidiUnavailable(f"no MIDI system here ({exc})") from None
        client.ignore_types(sysex=True, timing=False, active_sense=True)  # clock counts
        return client

    @property
    def watches_server(self) -> bool:
        """Whether :meth:`alive` can tell (a JACK 2 server; other systems stay)."""
        return self._socket is not None

    def alive(self) -> bool:
        """False once the system went (a JACK server that stopped, even if another
        took its name since): then :meth:`abandon` it and make a new one."""
        if self._socket is None:
            return True
        return _identity(jack_server_socket()) == self._socket

    def input_names(self) -> list[str]:
        return list(self._lister.get_ports())

    def open(self, name: str) -> InPort:
        client = self._take_client()
        try:
            ports = client.get_ports()
            if name not in ports:
                raise OSError(f"unknown port {name!r}")
            client.open_port(ports.index(name))
        except ERRORS:
            self._idle.append(client)
            self._open -= 1
            raise
        return InPort(name, client)

    def open_virtual(self, name: str) -> InPort:
        client = self._take_client()
        client.open_virtual_port(name)
        return InPort(name, client)

    @property
    def spares(self) -> int:
        """Clients ready for the next ports, with no new client."""
        return len(self._idle)

    def refill(self, spares: int = SPARES) -> None:
        """Top the spare clients up to ``spares`` (within ``MAX_CLIENTS``). Only where a
        stall is paid for anyway: at start-up, before audio runs, and just after the
        system was rebuilt. From then on, a port that finds no spare warns."""
        try:
            while len(self._idle) < min(spares, MAX_CLIENTS - self._open):
                self._idle.append(self._client())
        finally:  # MidiUnavailable: the system went meanwhile; keep what was made
            self._settled = True

    def _take_client(self) -> Any:
        if self._open >= MAX_CLIENTS:
            raise OSError(f"{MAX_CLIENTS} MIDI ports are open already")
        if not self._idle and self._settled and self.api == "UNIX_JACK":
            log.warning(
                "MIDI: no spare JACK client left (%d ports open); making one now can "
                "stall the show for 0.5 to 1.5 s",
                self._open,
            )
        client = self._idle.pop() if self._idle else self._client()
        self._open += 1
        return client

    def close(self, port: InPort) -> None:
        """Close ``port`` and keep its client for the next port (no new client: see the
        module's docstring)."""
        port.client.close_port()
        self._idle.append(port.client)
        self._open -= 1

    def abandon(self, ports: list[InPort]) -> None:
        """The system went: keep every client, touch none (see ``_ABANDONED``)."""
        _ABANDONED.extend([self._lister, *self._idle, *(p.client for p in ports)])
        self._idle.clear()

    def shut(self, ports: list[InPort]) -> None:
        """Close ``ports`` and delete every client (the end of the show)."""
        for client in [*(p.client for p in ports), *self._idle, self._lister]:
            client.close_port()
            client.delete()
        self._idle.clear()


def port_names() -> tuple[list[str], list[str]]:
    """Input and output port names (for ``performer devices``), with the same checks
    as a performance (no ALSA sequencer: :class:`MidiUnavailable`, and nothing from
    alsa-lib on stderr)."""
    rtmidi, api = _rtmidi_api(api_name())
    try:
        inputs, outputs = rtmidi.MidiIn(api), rtmidi.MidiOut(api)
    except rtmidi.RtMidiError as exc:
        raise MidiUnavailable(f"no MIDI system here ({exc})") from None
    names = list(inputs.get_ports()), list(outputs.get_ports())
    inputs.delete()
    outputs.delete()
    return names
