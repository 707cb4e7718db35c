"""What the live loop's held-picture check costs per generated frame.

    .venv/bin/python bench/held_check.py [--calls 200000] [--runs 5]

Before each frame the generator thread clears the store's change event and asks
``Session.holding()``: a lock, the generator's ``holds`` rule, and, when that rule says
a picture could be held (timestep 0), one in-place comparison of every parameter with
the last frame's snapshot (no copy). Reported in microseconds per frame, the median of
``--runs``, for a playing picture, for a held one with the default prompt, and for a held
one with a 2,000-character prompt; and against one embedded-model frame (1 step).
Then the point of it: frames generated while the display ticks at 60 Hz for
``--hold`` seconds at timestep 0 (before the check: about 50,000 a second).
"""

from __future__ import annotations

import argparse
import statistics
import time

from performer.control.param import MAX_TEXT

from performer import patch
from performer.generators.embedded import EmbeddedGenerator
from performer.session import Session


def per_call(session: Session, calls: int) -> float:
    changed = session.store.changed
    start = time.perf_counter()
    for _ in range(calls):
        changed.clear()
        session.holding()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hold", type=float, default=3.0)
    args = parser.parse_args()
    generator = EmbeddedGenerator()
    cases = {
        "playing (timestep 0.6)": {},
        "held (timestep 0)": {"timestep": 0.0},
        f"held, {MAX_TEXT}-character prompt": {"timestep": 0.0, "prompt": "a" * MAX_TEXT},
    }
    frame_s = 0.0
    for name, overrides in cases.items():
        session = Session(patch.loads(""), generator, overrides=overrides)
        session.prepare()
        session.step()
        if not overrides:  # a playing frame, for scale
            start = time.perf_counter()
            for _ in range(50):
                session.step()
            frame_s = (time.perf_counter() - start) / 50
        session.ticked = True  # the live loop: the display ticks
        runs = [per_call(session, args.calls) for _ in range(args.runs)]
        text = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{name}: median {statistics.median(runs):.2f} us per frame  (runs: {text})")
        session.ticked = False
    print(f"one embedded frame (1 step, through Session.step): {frame_s * 1e3:.2f} ms")
    print(f"timestep 0, {args.hold:g} s of 60 Hz display ticks: {held(args.hold)} frames generated")
    return 0


def held(seconds: float) -> int:
    session = Session(patch.loads("[params]\ntimestep = 0.0\n"), EmbeddedGenerator())
    session.prepare()
    session.start(ticked=True)
    try:
        while (first := session.latest()) is None:
            time.sleep(0.01)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            session.tick(session.clock.now())
            time.sleep(1 / 60)
        last = session.latest()
        assert last is not None
        return last.number - first.number
    finally:
        session.stop()


if __name__ == "__main__":
    raise SystemExit(main())
