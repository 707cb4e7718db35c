"""performer: a real-time audiovisual instrument built on few-step diffusion.

The code has four layers, and imports point down only (``tests/test_layers.py``)::

    performer            the roof: the show (one place builds it), the CLI, generators,
        │                the probe, takes and replay
        ▼
    performer.mappings   from input to parameter: curves, smoothing, takeover, learn,
        │                timelines, scenes and cues, the transport
        ▼
    performer.control    the floor: the vocabulary every layer speaks (events and the
                         inbox, the performance clock, the parameter registry) and the
                         inputs: OSC and OSCQuery, MIDI, audio, tempo (MIDI clock, Link)

    performer.render     output, standing alone: window, headless, compositor, HUD,
                         video writer

In the repository ``control/``, ``mappings/``, ``render/`` and ``patches/`` sit beside
``performer/``; the wheel installs them inside it (``performer.control``, ...).
"""

__version__ = "0.1.0"
