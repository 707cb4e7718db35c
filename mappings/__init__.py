"""From a knob, a beat or a timeline to a parameter.

Cheat sheet::

    from performer.mappings import Conductor, PatchError, parse
    from performer.control.events import Event
    from performer.control.params import ParamStore

    score = parse(patch_data)                  # PatchError(key="mappings[2].curve", message=...)
    conductor = Conductor(score)               # plays the mappings, timelines, scenes, cues
    conductor.feed(Event(t, "midi:cc:1:16", 0.5, raw=64))   # live input; never blocks
    conductor.feed(Event(t, "param:era", 1925.0))            # a direct set (counts as live)
    changes = conductor.tick(now, store.snapshot())          # once per frame
    store.update((c.param, c.value) for c in changes)        # Change(time, param, value, cause)
    conductor.cue("dawn", now)                 # launch on the next beat/bar, fade in beats
    conductor.learn("era"); conductor.learned  # MIDI learn; conductor.learned_toml()
    conductor.set_mode("era", "touch")         # automation: read | touch | latch | off
    t = conductor.transport                    # beat(now), bar(now), phase(now), bpm,
    t.tap(now); t.sync(beat, bpm, now)         # tap tempo; MIDI clock / Link follow

The patch tables (``[[mappings]]``, ``[scenes.*]``, ``[timelines.*]``, ``[cues.*]``,
``[transport]``) are described in :mod:`mappings.mapping`, :mod:`mappings.scenes`,
:mod:`mappings.timeline` and :mod:`mappings.score`. One module per concept:
``curves`` (ranges, curves, deadzone), ``smoothing`` (one-pole, slew, 1€),
``takeover`` (soft takeover), ``relative`` (endless encoders), ``oscillators``,
``timeline``, ``transport``, ``scenes``, ``automation``, ``learn``, ``toml_writer``;
``score`` reads a patch's tables once, ``tables`` holds the reading and its one error.
"""

from performer.mappings.conductor import Change, Conductor
from performer.mappings.learn import learned_toml
from performer.mappings.score import Score, parse
from performer.mappings.tables import PatchError
from performer.mappings.transport import Transport

__all__ = [
    "Change",
    "Conductor",
    "PatchError",
    "Score",
    "Transport",
    "learned_toml",
    "parse",
]
