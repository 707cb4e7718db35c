"""Soft takeover for absolute knobs: a knob that disagrees with its parameter waits.

After a scene change or a timeline move, a physical knob no longer sits where its
parameter is. Jumping to the knob would make the picture lurch, so the knob is
*picked up* instead, as Mixxx does (``SoftTakeover::ignore``): a move is refused
only while the knob stays on one side of the parameter's value, more than
``THRESHOLD`` away both before and after it. So it is taken when the knob lands
near the value, crosses it, or moves from where the value is (the knob already has
it); and always within ``WINDOW`` seconds of the last accepted move (a fast turn
sends big steps). The very first message is taken only near the value.
Positions are compared in 0..1 of the mapping's output range.
"""

from __future__ import annotations

THRESHOLD = 3.0 / 128.0  # Mixxx's kDefaultTakeoverThreshold
# seconds: twice Mixxx's kSubsequentValueOverrideTime (50 ms), because a slider at
# controller rates (~33 messages a second) lands next to 50 ms with one period of JACK
# jitter or one message lost, and a knob that owned its parameter before a stall must
# be followed through the late burst of its messages, in the order they arrived
WINDOW = 0.1


class Pickup:
    """One knob's takeover state: ``accept(knob, current, now)`` says whether it moves."""

    def __init__(self, threshold: float = THRESHOLD, window: float = WINDOW):
        self.threshold, self.window = threshold, window
        self.previous: float | None = None  # the knob's last position, accepted or not
        self.accepted_at: float | None = None

    def accept(self, knob: float, current: float, now: float) -> bool:
        previous, self.previous = self.previous, knob
        if self.accepted_at is not None and now - self.accepted_at <= self.window:
            ok = True
        elif previous is None:  # the first message: only a knob already there
            ok = abs(knob - current) <= self.threshold
        else:  # refuse only a knob that stays on one side, away from the value
            gap, previous_gap = knob - current, previous - current
            same_side = gap * previous_gap > 0
            ok = not (same_side and min(abs(gap), abs(previous_gap)) > self.threshold)
        if ok:
            self.accepted_at = now
        return ok

    def release(self) -> None:
        """The parameter moved away on its own (a scene, a timeline): pick it up again."""
        self.accepted_at = None

    def fresh(self) -> Pickup:
        """The same threshold and window, for a knob not seen yet."""
        return Pickup(self.threshold, self.window)


class Jump:
    """No takeover: every move is taken (for motorised faders or a one-knob patch)."""

    def accept(self, knob: float, current: float, now: float) -> bool:
        return True

    def release(self) -> None:
        pass

    def fresh(self) -> Jump:
        return Jump()


TAKEOVERS = ("pickup", "jump")
