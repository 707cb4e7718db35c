"""Automation modes: who plays a parameter that has a timeline, the timeline or the hand.

As in a DAW, per parameter (the track's ``mode``):

- ``read``: the timeline plays; live input to that parameter is ignored.
- ``touch``: live input takes over while it moves; ``release`` beats after the last
  move the timeline has it back.
- ``latch``: live input takes over from its first move until the next cue fires.
- ``off``: the timeline is silent; only live input and scenes move the parameter.
"""

from __future__ import annotations

from performer.mappings.timeline import MODES


class Automation:
    """One parameter's mode and the state that decides who owns it now."""

    def __init__(self, mode: str = "read", release: float = 1.0):
        self.mode = ""
        self.set_mode(mode)
        self.release = release  # beats
        self.moved_beat = float("-inf")  # the last live move, in beats
        self.latched = False

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown automation mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode
        self.latched = False

    def moved(self, beat: float) -> None:
        """Live input moved the parameter at ``beat``."""
        self.moved_beat = max(self.moved_beat, beat)
        if self.mode == "latch":
            self.latched = True

    def cue(self) -> None:
        """A cue fired: a latch lets go."""
        self.latched = False

    def live_owns(self, beat: float) -> bool:
        """Whether live input, rather than the timeline, sets the parameter at ``beat``."""
        if self.mode == "off":
            return True
        if self.mode == "touch":
            return beat - self.moved_beat < self.release
        if self.mode == "latch":
            return self.latched
        return False

    def timeline_plays(self) -> bool:
        return self.mode != "off"
