"""What the session's own command events do: MIDI learn and saving it, scenes, tap
tempo, an outside clock's tempo (MIDI clock, Ableton Link: ``clock:tempo``), and the
IP-Adapter's grab of the picture (``ip/grab``).

They run on the display thread, inside a tick, so each is quick: saving what was
learned copies the tables there and writes the file on the session's worker.
The show adds its own commands (record, probe) beside these: see :mod:`performer.live`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from performer.control.events import Event
from performer.control.params import REGISTRY
from performer.mappings.learn import learned_path
from performer.mappings.learn import write as write_learned

if TYPE_CHECKING:
    from performer.session import Session

log = logging.getLogger(__name__)


def learn_targets() -> list[str]:
    """What MIDI learn can map a control to: the live numeric parameters (text is typed),
    those the show declared (``lora_<name>``, ``control_strength_<n>``) included."""
    return [p.name for p in REGISTRY.values() if p.live and p.kind != "str"]


def built_in(session: Session) -> dict[str, Callable[[Event], None]]:
    """The session's commands, by the event source that runs them."""
    return {
        "learn": partial(learn, session),
        "learn/save": partial(save_learned, session),
        "scene": partial(scene, session),
        "tap": partial(tap, session),
        "clock:tempo": partial(tempo, session),
        "ip/grab": partial(grab, session),
    }


def learn(session: Session, event: Event) -> None:
    name = event.value
    p = REGISTRY.get(name) if isinstance(name, str) else None
    if p is None or p.kind == "str" or not p.live:
        if p is None:
            why = "is not a parameter"
        elif p.kind == "str":
            why = "is text: a control cannot play it"
        else:
            why = "is read once at the start"
        session.problems.log(
            log,
            logging.WARNING,
            "learn",
            "MIDI learn: %s %s; ignored (learnable: %s)",
            repr(name)[:64],
            why,
            ", ".join(learn_targets()),
        )
        return
    session.conductor.learn(name)
    log.info("MIDI learn: move a control to map it to %s", name)


def save_learned(session: Session, _: Event) -> None:
    """Write the mappings learned so far beside the patches, named after the patch: the
    tables are copied here, the file is written on the worker."""
    tables = copy.deepcopy(session.conductor.learned)
    if not tables:
        log.info("MIDI learn: nothing learned yet")
        return
    chore = partial(_write, session.learned_dir, session.patch.name, tables)
    session.worker.run("saving learned mappings", chore)


def _write(folder: Path, patch_name: str, tables: list[dict[str, Any]]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = write_learned(learned_path(folder, patch_name), tables)
    except OSError as exc:
        log.error("could not save learned mappings: %s", exc)
        return
    log.info("MIDI learn: %d mapping(s) saved to %s", len(tables), path)


def scene(session: Session, event: Event) -> None:
    names = list(session.conductor.cues)
    name = event.value
    if isinstance(name, int) and not isinstance(name, bool) and 0 <= name < len(names):
        name = names[name]
    try:
        session.conductor.cue(str(name), event.time)
    except ValueError as exc:  # names come from the network: one line a second
        text = repr(event.value)[:64]
        session.problems.log(log, logging.WARNING, "scene", "scene %s: %s", text, str(exc)[:200])


def tap(session: Session, event: Event) -> None:
    session.conductor.transport.tap(event.time)


def tempo(session: Session, event: Event) -> None:
    """An outside clock says where the beat is and how fast it goes."""
    beat, bpm = event.value
    session.conductor.transport.sync(beat, bpm, event.time)


def grab(session: Session, event: Event) -> None:
    """The picture becomes the IP-Adapter's image prompt: ``ip_grab`` counts one on (the
    generator takes its latest frame when the count moves) and ``ip_source`` turns to 2.
    Both are parameter changes, so a take holds them and its replay grabs the same frame."""
    count, most = session.store.get("ip_grab"), REGISTRY["ip_grab"].hi
    after = 0 if count >= most else count + 1
    session.conductor.feed(Event(event.time, "param:ip_grab", after, origin=event.origin))
    session.conductor.feed(Event(event.time, "param:ip_source", 2, origin=event.origin))
