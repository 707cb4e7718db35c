"""MIDI input ports (mido, rtmidi backend): open by name, hot-plug, events to the inbox.

``MidiInput(["nanoKONTROL", "MIDImix"], ...)`` opens every input port whose name
contains one of the patterns, plus a virtual input named ``performer`` where the OS
allows one (ALSA, JACK, CoreMIDI), so other software can connect to the instrument.
A watcher notices ports that vanish (reported once) and re-opens them when they come
back, with no restart; the same when the whole MIDI system goes (a JACK server that
dies) and comes back. Messages are decoded by ``midi_decode.MidiDecoder`` on
rtmidi's callback thread and only enqueued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from control.midi_decode import MidiDecoder
from performer.clock import Clock
from performer.events import Inbox

log = logging.getLogger(__name__)

VIRTUAL_NAME = "performer"

# Ports of a MIDI system that went away. Once the system is gone, closing its ports can
# crash the process (rtmidi on a dead JACK server frees a client JACK already freed), so
# they are marked closed, never closed, and kept here for the life of the process.
_ABANDONED: list[Any] = []


class MidiUnavailable(RuntimeError):
    """No MIDI backend or system here (e.g. no ALSA sequencer and no JACK)."""


def backend() -> Any:
    """The mido backend, with a clear error when there is none."""
    import mido

    try:
        b = mido.backend
        b.get_input_names()
    except (ImportError, OSError, SystemError, RuntimeError) as exc:
        raise MidiUnavailable(
            f"no MIDI system here ({exc}); start JACK or load ALSA's snd-seq, "
            "or set MIDO_BACKEND (e.g. mido.backends.rtmidi/UNIX_JACK)"
        ) from None
    return b


class MidiInput:
    def __init__(
        self,
        patterns: Iterable[str],
        inbox: Inbox,
        clock: Clock,
        virtual: bool = True,
        poll_s: float = 1.0,
        on_message: Callable[[Any], None] | None = None,
    ):
        self.patterns = [p for p in patterns if p]
        self.inbox, self.clock = inbox, clock
        self.virtual, self.poll_s = virtual, poll_s
        self.on_message = on_message  # e.g. MIDI clock out or learn display; optional
        self.decoder = MidiDecoder()
        self.ports: dict[str, Any] = {}
        self._missing: set[str] = set()
        self._generation = 0  # ports opened before the MIDI system last went
        self._lock = threading.Lock()  # guards the decoder: several ports, several threads
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.refresh()
        self._watcher = threading.Thread(target=self._watch, name="midi-hotplug", daemon=True)
        self._watcher.start()

    def _open_virtual(self, b: Any) -> None:
        if not self.virtual or VIRTUAL_NAME in self.ports:
            return
        try:
            self.ports[VIRTUAL_NAME] = b.open_input(
                VIRTUAL_NAME, virtual=True, callback=self._callback(VIRTUAL_NAME)
            )
        except (OSError, NotImplementedError, SystemError) as exc:
            log.info("no virtual MIDI port here (%s); open ports by name instead", exc)

    def refresh(self) -> None:
        """Open wanted ports that appeared; forget the ones that vanished."""
        b = backend()
        if self._stop.is_set():
            return  # stop() may already have closed the ports
        self._open_virtual(b)
        available = b.get_input_names()
        for name in [n for n in list(self.ports) if n != VIRTUAL_NAME and n not in available]:
            log.warning("MIDI port %r vanished; will re-open it when it comes back", name)
            self._close_port(name)
            self._missing.add(name)
        for name in available:
            wanted = any(p.lower() in name.lower() for p in self.patterns)
            if not wanted or name in self.ports:
                continue
            try:
                self.ports[name] = b.open_input(name, callback=self._callback(name))
            except (OSError, SystemError) as exc:
                log.warning("could not open MIDI port %r: %s", name, exc)
                continue
            log.info("MIDI port %r %s", name, "is back" if name in self._missing else "opened")
            self._missing.discard(name)
        for pattern in self.patterns:
            if not any(pattern.lower() in n.lower() for n in self.ports):
                log.debug("no MIDI port matches %r yet; available: %s", pattern, available)

    def _callback(self, port_name: str) -> Callable[[Any], None]:
        origin = f"midi:{port_name}"
        generation = self._generation

        def receive(message: Any) -> None:
            if generation != self._generation:
                return  # a port left behind by _abandon_ports()
            now = self.clock.now()
            with self._lock:
                events = self.decoder.decode(message, now, origin)
            for event, coalesce in events:
                self.inbox.put(event, coalesce=coalesce)
            if self.on_message is not None:
                self.on_message(message)

        return receive

    def _watch(self) -> None:
        gone = False  # the MIDI system itself went away
        while not self._stop.wait(self.poll_s):
            try:
                self.refresh()
            except MidiUnavailable as exc:
                if not gone:
                    log.warning("%s; MIDI stopped, and comes back when the system does", exc)
                    self._abandon_ports()
                gone = True
                continue
            if gone:
                log.info("the MIDI system is back")
                gone = False

    def _abandon_ports(self) -> None:
        self._generation += 1  # their callbacks go quiet, in case the system still runs
        for name, port in self.ports.items():
            port.closed = True  # mido's close() (and __del__) then leaves it alone
            _ABANDONED.append(port)
            if name != VIRTUAL_NAME:
                self._missing.add(name)
        self.ports.clear()

    def _close_port(self, name: str) -> None:
        port = self.ports.pop(name, None)
        if port is not None:
            port.close()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        if self.ports:
            try:
                backend()
            except MidiUnavailable:  # gone since the watcher last looked: leave them alone
                self._abandon_ports()
        for name in list(self.ports):
            self._close_port(name)
