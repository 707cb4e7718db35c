"""Ableton Link: a tempo input, as MIDI clock is. Opt-in.

Link multicasts on every network interface, so nothing here joins a session until
:meth:`LinkSync.start` is called (a patch or the command line asks for it; nothing
does by default). Uses ``linkpython-extern`` (``pip install linkpython-extern``,
module ``link``: a 0.5 MB wheel with no dependencies), imported only when a
LinkSync is made, so the package works without it.

On its own thread, :meth:`LinkSync.poll` either follows the Link session, by putting
``Event(now, "clock:tempo", (beat, bpm))`` into the inbox as MIDI clock does (so the
take's log holds it and a replay plays it again), or, when the tempo changed here
(tap tempo, the bpm knob), leads it: the new tempo is committed to Link. It follows
only when something moved: a new tempo, or a beat that drifted from the last one sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from performer.control.clock import Clock
from performer.control.events import Event, Inbox
from performer.control.params import param
from performer.control.throttle import Throttle

log = logging.getLogger(__name__)

POLL_S = 0.01  # how often Link is looked at: well inside one display frame
DRIFT_BEATS = 0.002  # a beat this far from the last one sent is sent again (1 ms at 120)


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
    """Follow and lead an Ableton Link session's tempo.

    ``tempo`` tells the tempo here (the transport's bpm, read by the show); when it
    moves other than by an event sent from here, Link is led to it."""

    def __init__(
        self,
        inbox: Inbox,
        clock: Clock,
        tempo: Callable[[], float],
        quantum: float = 4.0,
    ):
        self.inbox, self.clock, self.tempo = inbox, clock, tempo
        self.quantum = float(quantum)
        self._link = load_link().Link(tempo())
        self._link.enabled = False
        self._seen = tempo()  # the tempo here at the last look
        self._sent: tuple[float, float, float] | None = None  # (time, beat, bpm) last sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._problems = Throttle(1.0)

    def start(self) -> None:
        """Join the Link session on the network (multicast from here on) and follow it."""
        self._link.enabled = True
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="link", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Leave the Link session (safe twice)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._link.enabled = False

    @property
    def peers(self) -> int:
        return int(self._link.numPeers())

    def poll(self, now: float) -> None:
        """One look: lead Link when the tempo changed here, else follow it."""
        if not self._link.enabled:
            return
        state = self._link.captureAppSessionState()
        micros = self._link.clock().micros()
        here = self.tempo()
        if here != self._seen and not self._mine(here):
            state.setTempo(here, micros)
            self._link.commitAppSessionState(state)
        else:
            self._follow(now, state.beatAtTime(micros, self.quantum), state.tempo())
        self._seen = here

    def _mine(self, here: float) -> bool:
        """Whether the tempo here is the one last sent from Link (as the transport
        clamps it), i.e. it moved because it followed."""
        return self._sent is not None and abs(here - param("bpm").clamp(self._sent[2])) < 1e-9

    def _follow(self, now: float, beat: float, bpm: float) -> None:
        if self._sent is not None:
            then, sent_beat, sent_bpm = self._sent
            expected = sent_beat + (now - then) * sent_bpm / 60.0
            if bpm == sent_bpm and abs(beat - expected) < DRIFT_BEATS:
                return  # nothing moved: the transport already runs where Link does
        self._sent = (now, beat, bpm)
        self.inbox.put(Event(now, "clock:tempo", (beat, bpm)))

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.poll(self.clock.now())
            except Exception as exc:  # a Link that fails must not end the show's tempo
                self._problems.log(log, logging.ERROR, "link", "Ableton Link failed: %s", exc)
