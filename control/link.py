"""Ableton Link: share tempo and beat with other apps on the network. Opt-in.

Link multicasts on every network interface, so nothing here joins a session until
:meth:`LinkSync.start` is called (a patch or the command line asks for it; nothing
does by default). Uses ``linkpython-extern`` (``pip install linkpython-extern``,
module ``link``: a 0.5 MB wheel with no dependencies), imported only when a
LinkSync is made, so the package works without it.

Once per frame, :meth:`LinkSync.poll` either follows the session (the transport is
synced to Link's beat and tempo) or, when the tempo changed here since the last poll
(tap tempo, the bpm knob), leads it (the new tempo is committed to Link).
"""

from __future__ import annotations

from typing import Any, Protocol


class Transport(Protocol):
    """What Link follows and leads: the conductor's transport (mappings/transport.py)."""

    bpm: float
    beats_per_bar: int

    def sync(self, beat: float, bpm: float, now: float) -> None: ...


def load_link() -> Any:
    """The ``link`` module of linkpython-extern, or an error saying how to get it."""
    try:
        import link
    except ImportError:
        raise ImportError(
            "Ableton Link needs linkpython-extern: pip install linkpython-extern"
        ) from None
    return link


class LinkSync:
    def __init__(self, transport: Transport, quantum: float | None = None):
        self.transport = transport
        self.quantum = float(quantum or transport.beats_per_bar)
        self._link = load_link().Link(transport.bpm)
        self._link.enabled = False
        self._seen_bpm = transport.bpm

    def start(self) -> None:
        """Join the Link session on the network (multicast from here on)."""
        self._link.enabled = True

    def stop(self) -> None:
        self._link.enabled = False

    @property
    def peers(self) -> int:
        return int(self._link.numPeers())

    def poll(self, now: float) -> None:
        """Follow the session, or lead it when the tempo changed here since the last poll."""
        if not self._link.enabled:
            return
        state = self._link.captureAppSessionState()
        micros = self._link.clock().micros()
        if self.transport.bpm != self._seen_bpm:
            state.setTempo(self.transport.bpm, micros)
            self._link.commitAppSessionState(state)
        else:
            self.transport.sync(state.beatAtTime(micros, self.quantum), state.tempo(), now)
        self._seen_bpm = self.transport.bpm
