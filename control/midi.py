"""MIDI inputs: open ports by name, hot-plug, events to the inbox; never a stall.

``MidiInput(["nanoKONTROL", "MIDImix"], ...)`` opens every input port whose name
contains one of the patterns, plus a virtual input named ``performer`` where the OS
allows one (ALSA, JACK, CoreMIDI), so other software can connect to the instrument.
The backend is python-rtmidi, with the API ``MIDO_BACKEND`` names (e.g.
``mido.backends.rtmidi/UNIX_JACK``).

One thread, ``midi``, does everything: every ``read_s`` (slowing to ``IDLE_READ_S``
while nothing comes) it takes the messages waiting in rtmidi's queues
(:mod:`control.midi_ports` says why there is no callback), decodes them
(``midi_decode.MidiDecoder``) at the time they arrived and only enqueues; every
``poll_s`` it lists the ports on one long-lived client, to notice ports that vanish
(reported once) and re-open them when they come back, with no restart; the same when
the whole MIDI system goes (a JACK server that dies) and comes back.

Messages that were read late (the process stalled, say) keep their arrival times and
are enqueued in order, not coalesced into one jump: a knob turning through the
stall is still turning after it, and soft takeover follows it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from performer.control.clock import Clock
from performer.control.events import Inbox
from performer.control.midi_decode import MidiDecoder
from performer.control.midi_ports import (
    ERRORS,
    InPort,
    MidiSystem,
    MidiUnavailable,
    api_name,
    port_names,
    server_socket_exists,
)
from performer.control.throttle import Throttle

__all__ = ["VIRTUAL_NAME", "MidiInput", "MidiUnavailable", "port_names"]

log = logging.getLogger(__name__)

VIRTUAL_NAME = "performer"
READ_S = 0.002  # how often waiting messages are taken: at most this much latency
IDLE_READ_S = 0.008  # how often when nothing came for a while: the first message waits
LATE_S = 0.03  # a message read this long after it arrived came in a burst


def _short(data: list[int]) -> str:
    """A message's bytes for a log line: the first few in hex."""
    shown = " ".join(f"{b:02x}" for b in data[:8] if isinstance(b, int))
    return f"[{shown}{' ...' if len(data) > 8 else ''}]"


class MidiInput:
    def __init__(
        self,
        patterns: Iterable[str],
        inbox: Inbox,
        clock: Clock,
        virtual: bool = True,
        poll_s: float = 1.0,
        on_message: Callable[[Any], None] | None = None,
        read_s: float = READ_S,
    ):
        self.patterns = [p for p in patterns if p]
        self.inbox, self.clock = inbox, clock
        self.virtual, self.poll_s, self.read_s = virtual, poll_s, read_s
        self.on_message = on_message  # e.g. MIDI clock out or learn display; optional
        self.decoder = MidiDecoder()
        self.ports: dict[str, InPort] = {}
        self.bad = 0  # messages rtmidi gave that are not MIDI
        self._system: MidiSystem | None = None
        self._missing: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors = Throttle(1.0, max_keys=4)
        self._lock = threading.Lock()  # the ports: refresh() may come from any thread
        self._watched = False  # the system that went was a JACK server we could watch

    def start(self) -> None:
        """Open the ports now (MidiUnavailable if there is no MIDI system), then watch."""
        self._stop.clear()
        self._system = MidiSystem(api_name())
        self.refresh()
        # spares for ports plugged in mid-show, made now, before audio runs: a new JACK
        # client later stalls every Python thread (midi_ports says why)
        with self._lock:
            self._system.refill()
        self._thread = threading.Thread(target=self._run, name="midi", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        """Open wanted ports that appeared; forget the ones that vanished."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        system = self._system
        if system is None or self._stop.is_set():
            return  # stop() may already have closed the ports
        if self.virtual and VIRTUAL_NAME not in self.ports:
            try:
                self.ports[VIRTUAL_NAME] = system.open_virtual(VIRTUAL_NAME)
            except (*ERRORS, NotImplementedError) as exc:
                self.virtual = not isinstance(exc, NotImplementedError)  # Windows: never
                log.info("no virtual MIDI port here (%s); open ports by name instead", exc)
        available = system.input_names()
        if not system.alive():
            return  # it went just now: what it lists is nothing, and closing could crash
        for name in [n for n in self.ports if n != VIRTUAL_NAME and n not in available]:
            log.warning("MIDI port %r vanished; will re-open it when it comes back", name)
            system.close(self.ports.pop(name))
            self._missing.add(name)
        for name in available:
            wanted = any(p.lower() in name.lower() for p in self.patterns)
            if not wanted or name in self.ports:
                continue
            try:
                self.ports[name] = system.open(name)
            except ERRORS as exc:
                log.warning("could not open MIDI port %r: %s", name, exc)
                continue
            log.info("MIDI port %r %s", name, "is back" if name in self._missing else "opened")
            self._missing.discard(name)

    def _run(self) -> None:
        next_look = self.clock.now() + self.poll_s
        wait = self.read_s
        while not self._stop.wait(wait):
            try:
                # while quiet, look less and less often, down to every IDLE_READ_S:
                # looking every 2 ms costs 3% of a core
                heard = self._read()
                slowest = max(self.read_s, IDLE_READ_S)
                wait = self.read_s if heard else min(wait * 1.01, slowest)
                if self.clock.now() >= next_look:
                    next_look = self.clock.now() + self.poll_s
                    self._look()
            except Exception as exc:  # the thread never ends before stop(): MIDI goes on
                self._errors.log(
                    log, logging.WARNING, "midi", "MIDI: %s: %s; going on",
                    type(exc).__name__, exc,
                )  # fmt: skip

    def _read(self) -> bool:
        """Take what waits on every port; whether there was anything."""
        heard = False
        with self._lock:
            for port in list(self.ports.values()):
                origin = f"midi:{port.name}"
                now = self.clock.now()
                burst = port.drain(now)
                # one late message makes the whole batch a burst: coalescing its on-time
                # tail would still leave a gap in the knob's path that takeover refuses
                late = bool(burst) and now - burst[0][1] > LATE_S
                for data, arrived in burst:
                    # each on its own: one message a decoder or listener chokes on
                    # must not lose the rest of the batch, nor end the thread
                    try:
                        self._take(data, arrived, late, origin)
                    except Exception as exc:
                        self._errors.log(
                            log, logging.WARNING, "message",
                            "MIDI: %s from %s: %s: %s; skipped, going on",
                            _short(data), origin, type(exc).__name__, exc,
                        )  # fmt: skip
                heard = heard or bool(burst)
        return heard

    def _take(self, data: list[int], arrived: float, late: bool, origin: str) -> None:
        import mido

        try:
            message = mido.Message.from_bytes(data)
        except ValueError as exc:
            self.bad += 1
            self._errors.log(
                log, logging.WARNING, "bad", "MIDI: %s from %s (%d so far); skipped",
                exc, origin, self.bad,
            )  # fmt: skip
            return
        for event, coalesce in self.decoder.decode(message, arrived, origin):
            # late ones in order: coalescing a burst would make one jump of it
            self.inbox.put(event, coalesce=coalesce and not late)
        if self.on_message is not None:
            self.on_message(message)

    def _look(self) -> None:
        """Hot-plug: the system's ports, and the system itself."""
        system = self._system
        if system is not None and not system.alive():
            log.warning(
                "the MIDI system went away; MIDI stopped, and comes back when the system does"
            )
            self._watched = system.watches_server
            with self._lock:
                self._abandon()
        if self._system is None:
            if self._watched and not server_socket_exists():
                return  # no server yet: trying would only make libjack print its errors
            try:
                system = self._system = MidiSystem(api_name())
            except MidiUnavailable:
                return
            log.info("the MIDI system is back")
            self.refresh()
            # the rebuild stalls already: its spares are made now, not one port later
            try:
                with self._lock:
                    system.refill()
            except MidiUnavailable:
                pass  # gone again: the next look finds it so
            return
        self.refresh()

    def _abandon(self) -> None:
        assert self._system is not None
        self._system.abandon(list(self.ports.values()))
        self._missing.update(n for n in self.ports if n != VIRTUAL_NAME)
        self.ports.clear()
        self._system = None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        system, self._system = self._system, None
        if system is None:
            return
        ports, self.ports = list(self.ports.values()), {}
        if system.alive():
            system.shut(ports)
        else:  # gone since the thread last looked: leave them alone
            system.abandon(ports)
