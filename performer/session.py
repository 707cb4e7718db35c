"""A performance: patch, parameters, clock and generator wired together.

The generator runs on its own thread (``start()``) so the display never waits for it:
the display asks for ``latest()`` at its own rate. Input is applied in *ticks*: live,
the display ticks at its own rate (``tick()``), so a control reaches the screen on the
next drawn frame however slow the model is; offline, each ``step()`` ticks at its own
frame's time. Each frame carries the ticks that led to it, so the take's log can play
them again in the same order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from performer import actions
from performer.control.clock import Clock, MonotonicClock
from performer.control.events import Event, Inbox
from performer.control.params import ParamStore
from performer.control.throttle import Throttle
from performer.frames import ChangeListener, Frame, FrameListener, Source, Tick
from performer.generators import Generator, Setup
from performer.mappings import Conductor
from performer.patch import Patch
from performer.video import InputFit
from performer.worker import Worker

log = logging.getLogger(__name__)

# While a picture is held the generator makes no frames, and the display's ticks wait
# for the next one (each frame carries its ticks into the take's log). Past this many
# (about 4 s at 60 Hz) one frame is made anyway, the same picture: the wait stays
# bounded, and a take that ends during a long hold loses no more ticks than that.
HELD_TICKS = 256


class Session:
    def __init__(
        self,
        patch: Patch,
        generator: Generator,
        clock: Clock | None = None,
        overrides: Mapping[str, Any] | None = None,
        model: str | None = None,
        inbox: Inbox | None = None,
        worker: Worker | None = None,
        source: Source | None = None,
        conditioning: Mapping[str, Any] | None = None,
    ):
        self.patch = patch
        self.model = model  # what the patch or --model named (None: embedded), for takes
        # what else shaped the generator's picture (run.conditioning), for takes
        self.conditioning = dict(conditioning or {})
        self.generator = generator
        self.source = source  # the live input each frame may start from (input_mix)
        self._fit = InputFit()  # each input frame fitted to the generator's size, once
        self.clock = clock or MonotonicClock()
        self.store = ParamStore({**patch.params, **(overrides or {})})
        self.inbox = inbox if inbox is not None else Inbox()  # the inputs may hold it first
        self.conductor = Conductor(patch.score)
        self.worker = (
            worker if worker is not None else Worker()
        )  # slow chores of commands (learn/save's file)
        self.learned_dir = Path("patches") / "learned"  # where learn/save writes
        # command events ("learn", "scene", "record/start", ...) -> what they do
        self.commands: dict[str, Callable[[Event], None]] = actions.built_in(self)
        self._origins: dict[str, str] = {}  # event source -> who last sent it
        # told of every applied change, grouped by who made it (OSC feedback)
        self._change_listeners: list[ChangeListener] = []
        # told of every frame with the ticks that led to it (the take's control log)
        self._frame_listeners: list[FrameListener] = []
        self.ticked = False  # True while the display ticks (live); else each step ticks
        self._ticks: list[Tick] = []  # ticks since the last frame
        self.errors = 0
        self._latest: Frame | None = None
        self._count = 0
        self._lock = threading.RLock()  # a command run by a tick may ask for latest()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.event_errors = 0  # input events and commands that failed
        self.held = 0  # times the generator found the picture held and waited
        self._wanted = False  # a frame is wanted even if the picture is held
        self.problems = Throttle(1.0)  # one line a second per kind of bad input

    def subscribe(self, on_frame: FrameListener) -> None:
        """Tell ``on_frame`` of every frame made, with the ticks that led to it (the
        take's control log); called on the generator's thread."""
        self._frame_listeners.append(on_frame)

    def unsubscribe(self, on_frame: FrameListener) -> None:
        """Stop telling ``on_frame`` (safe twice)."""
        if on_frame in self._frame_listeners:
            self._frame_listeners.remove(on_frame)

    def on_changes(self, listener: ChangeListener) -> None:
        """Tell ``listener`` of every applied change with who made it (OSC feedback);
        called on the display's thread, outside the session's lock."""
        self._change_listeners.append(listener)

    def prepare(self) -> None:
        """Load the model for this patch's size and era anchors (slow: seconds to minutes)."""
        self.generator.prepare(
            Setup(
                width=self.store.get("width"),
                height=self.store.get("height"),
                anchors=self.patch.anchors,
                template=self.patch.template,
            )
        )
        restart = getattr(self.clock, "restart", None)
        if restart is not None:
            restart()  # loading can take minutes; the performance starts now

    def apply(self, events: list[Event], now: float) -> list[tuple[str, list[tuple[str, Any]]]]:
        """Apply input events and this frame's mappings, timelines and cues at ``now``.
        Each event (and each event of a bundle) is applied under its own guard: one
        that fails is reported and the others still apply. Returns the changes, grouped
        by who made them, for the listeners: they are told outside the session's lock."""
        for event in events:
            if event.source == "bundle":  # fed together: the same tick applies them all
                for item in self._bundle(event):
                    self._apply_one(item, commands=False)
            else:
                self._apply_one(event)
        changes = self.conductor.tick(now, self.store.snapshot())
        if not changes:
            return []
        self.store.update((c.param, c.value) for c in changes)
        by_origin: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for c in changes:
            by_origin[self._origins.get(c.cause, "")].append((c.param, self.store.get(c.param)))
        return list(by_origin.items())

    def _notify(self, changes: list[tuple[str, list[tuple[str, Any]]]]) -> None:
        """Tell the listeners (OSC feedback) of applied changes, each under its own guard:
        a controller that went away must cost the others nothing."""
        for origin, values in changes:
            for listener in self._change_listeners:
                try:
                    listener(values, origin)
                except Exception as exc:
                    self.event_errors += 1
                    name = getattr(listener, "__qualname__", type(listener).__name__)
                    self._report(f"listener:{name}", f"telling {name} of changes", exc)

    def _bundle(self, event: Event) -> list[Event]:
        try:
            return [Event(event.time, src, val, origin=event.origin) for src, val in event.value]
        except (TypeError, ValueError) as exc:
            self.event_errors += 1
            self._report("event:bundle", "a bundle that is not (source, value) pairs", exc)
            return []

    def _apply_one(self, event: Event, commands: bool = True) -> None:
        try:
            command = self.commands.get(event.source) if commands else None
            if command is not None:
                command(event)
            else:
                self._feed(event)
        except Exception as exc:  # the show goes on, with every other event of this tick
            self.event_errors += 1
            source = event.source[:64]
            who = f" from {event.origin[:64]}" if event.origin else ""
            # keyed by the kind of source, not the source: a sender can vary the address
            self._report(f"event:{source.partition(':')[0]}", f"event {source!r}{who}", exc)

    def _report(self, kind: str, what: str, exc: Exception) -> None:
        """One line a second per kind of failure, with what failed and why; the
        traceback only with --verbose."""
        text = str(exc)[:200]
        if self.problems.log(
            log,
            logging.ERROR,
            kind,
            "%s failed (%s: %s); the rest of the tick still applies",
            what,
            type(exc).__name__,
            text,
        ):
            log.debug("%s failed", what, exc_info=exc)

    def _feed(self, event: Event) -> None:
        if event.origin:
            if len(self._origins) >= 4096:  # sources come from the network: stay bounded
                self._origins.clear()
            self._origins[event.source] = event.origin
        self.conductor.feed(event)

    def tick(self, now: float, events: list[Event] | None = None) -> Frame | None:
        """Apply what came in until ``now`` (or ``events``) and the mappings at ``now``;
        returns the latest frame, which the display shows for this tick."""
        events = self.inbox.drain(now) if events is None else events
        with self._lock:
            shown = self._latest
            self._ticks.append(Tick(now, events, None if shown is None else shown.number))
            changes = self.apply(events, now)
            if len(self._ticks) >= HELD_TICKS:
                self.store.changed.set()  # a held picture: make a frame to carry the ticks
        # Sending is I/O: outside the lock, so the generator never waits on a socket.
        self._notify(changes)
        return shown

    def step(self, events: list[Event] | None = None) -> Frame:
        """Make one frame from the parameters as they stand. Unless the display ticks
        (``ticked``), tick first, with what came in (or ``events``)."""
        now = self.clock.now()
        if not self.ticked:
            self.tick(now, events)
        with self._lock:
            snap = self.store.snapshot()
            ticks, self._ticks = self._ticks, []
            self._wanted = False
        seen = self.source.latest() if self.source is not None else None
        started = time.perf_counter()
        live = None if seen is None else self._fit(seen, snap, self.generator.size)
        image = self.generator(snap, live)
        seconds, played = time.perf_counter() - started, self.generator.played(snap)
        frame = Frame(image, self._count, now, seconds, snap, seen, played)
        with self._lock:
            self._latest = frame
            self._count += 1
        for listener in self._frame_listeners:
            listener(frame, ticks)
        return frame

    def latest(self) -> Frame | None:
        with self._lock:
            return self._latest

    # -- live: the generator on its own thread -------------------------------------------
    def start(self, ticked: bool = False) -> None:
        """Generate on a thread; ``ticked``: the display calls ``tick()`` as it draws."""
        if self._thread is not None:
            return
        self.ticked = ticked
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="generator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.ticked = False
        self._stop.set()
        self.store.changed.set()  # wake a generator waiting on a held picture
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self.worker.stop()  # a learned file being written is finished first
        self.generator.close()

    def want_frame(self) -> None:
        """Make the next frame even if the picture is held: a take that begins during a
        hold logs a frame at once, so its replay has a picture from its start."""
        with self._lock:
            self._wanted = True
        self.store.changed.set()

    def holding(self) -> bool:
        """Whether the next frame would be the latest one again, so need not be made.

        Exactly when: the display ticks (so input is applied without frames); a frame
        exists, and no new one is wanted (by ``want_frame``, or by HELD_TICKS ticks
        waiting for one); every parameter is still what that frame's snapshot holds
        (the same snapshot in again); and the generator says a frame from that
        snapshot, right after one made from it, is the same picture and leaves its
        state as it was (``Generator.holds``: timestep 0 and no feedback motion). Then
        skipping the call changes nothing: later frames are what they would have been,
        and a take logs only the frames made, so its replay makes the same ones.
        """
        with self._lock:
            latest = self._latest
            if latest is None or not self.ticked or self._wanted:
                return False
            if len(self._ticks) >= HELD_TICKS:
                return False
            if self.source is not None and latest.snapshot["input_mix"] > 0:
                return False  # the live input moves the picture on its own
            return self.generator.holds(latest.snapshot) and self.store.holds(latest.snapshot)

    def _run(self) -> None:
        changed = self.store.changed
        while not self._stop.is_set():
            # cleared before looking: a change made after the look sets it again, so
            # the wait below returns at once and the next look sees the change
            changed.clear()
            if self.holding():
                self.held += 1
                changed.wait(0.25)
                continue
            try:
                self.step()
            except Exception:  # the show goes on: report, keep the last good frame
                self.errors += 1
                self.problems.log(
                    log,
                    logging.ERROR,
                    "frame",
                    "frame failed (%d so far); showing the last good one",
                    self.errors,
                    exc_info=True,
                )
                self._stop.wait(0.05)
