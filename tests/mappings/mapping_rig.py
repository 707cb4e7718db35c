"""A conductor, a parameter store and a fake clock, for the conductor tests."""

from __future__ import annotations

from typing import Any

from performer.control.clock import FakeClock
from performer.control.events import Event
from performer.control.params import ParamStore
from performer.mappings import Change, Conductor, Score, parse

FPS = 60


class Rig:
    """A conductor, a store and a fake clock, ticked at 60 fps."""

    def __init__(self, data: dict[str, Any] | Score, params: dict[str, Any] | None = None):
        """``data``: a patch's tables, or a loaded patch's score."""
        self.clock = FakeClock()
        self.store = ParamStore(params)
        self.conductor = Conductor(data if isinstance(data, Score) else parse(data))
        self.log: list[Change] = []

    def tick(self) -> list[Change]:
        changes = self.conductor.tick(self.clock.now(), self.store.snapshot())
        self.store.update((c.param, c.value) for c in changes)
        self.log += changes
        return changes

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * FPS)):
            self.clock.advance(1 / FPS)
            self.tick()

    def send(self, source: str, value: Any, raw: int | None = None) -> None:
        self.conductor.feed(Event(self.clock.now(), source, value, raw))

    def __getitem__(self, name: str) -> Any:
        return self.store.get(name)
