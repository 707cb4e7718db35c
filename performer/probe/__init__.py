"""The era probe: the analytic half of the instrument.

Hold prompt, seeds and every other parameter still, sweep one (era by default), and
measure what changes::

    from performer.probe.stats import frame_stats          # one frame -> dict of stats
    from performer.probe.sweep import parse_sweep, run_sweep
    result = run_sweep(generator, snapshot, parse_sweep("era=1850:2030:10"), seeds=range(4))
    from performer.probe.report import write_probe          # sheet, CSV/JSON, plots, HTML
    write_probe(result, Path("probe"))

``performer.probe.capture`` records ``frame_stats`` of the live frame into a take's
probe log (the ``/performer/probe`` message or a key); ``performer.probe.cli`` is the
``performer probe`` command.
"""

from performer.probe.stats import KEYS, frame_stats

__all__ = ["KEYS", "frame_stats"]
