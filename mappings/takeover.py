"""Soft takeover for absolute knobs: a knob that disagrees with its parameter waits.

After a scene change or a timeline move, a physical knob no longer sits where its
parameter is. Jumping to the knob would make the picture lurch, so the knob is
*picked up* instead, as Mixxx does (``SoftTakeover::ignore``): a move is accepted
when the knob lands within ``THRESHOLD`` of the parameter's value, or crosses it
between two messages, or comes within ``WINDOW`` seconds of the last accepted move
(a fast turn sends big steps; once the knob has the parameter it keeps it).
Positions are compared in 0..1 of the mapping's output range.
"""

from __future__ import annotations

THRESHOLD = 3.0 / 128.0  # Mixxx's kDefaultTakeoverThreshold
WINDOW = 0.05  # seconds; Mixxx's kSubsequentValueOverrideTime


class Pickup:
    """One knob's takeover state: ``accept(knob, current, now)`` says whether it moves."""

    def __init__(self, threshold: float = THRESHOLD, window: float = WINDOW):
        self.threshold, self.window = threshold, window
        self.previous: float | None = None  # the knob's last position, accepted or not
        self.accepted_at: float | None = None

    def accept(self, knob: float, current: float, now: float) -> bool:
        previous, self.previous = self.previous, knob
        owned = self.accepted_at is not None and now - self.accepted_at <= self.window
        near = abs(knob - current) <= self.threshold
        crossed = previous is not None and (previous - current) * (knob - current) < 0
        ok = owned or near or crossed
        if ok:
            self.accepted_at = now
        return ok

    def release(self) -> None:
        """The parameter moved away on its own (a scene, a timeline): pick it up again."""
        self.accepted_at = None


class Jump:
    """No takeover: every move is taken (for motorised faders or a one-knob patch)."""

    def accept(self, knob: float, current: float, now: float) -> bool:
        return True

    def release(self) -> None:
        pass


TAKEOVERS = ("pickup", "jump")
