"""What recording a take costs the performance: generated frames/s with and without it,
and the recorder's time on the generator's thread at each frame.

Plays the demo patch headless on the embedded model (or --model), drawing at --fps,
for --seconds per run; runs alternate between recording and not, --runs times each,
and the medians are compared. The recorder's frame listener is timed where the
generator calls it: before issue 13 it hashed the picture and wrote the log lines
there; since, it hands the frame to the recorder's own thread.

    .venv/bin/python bench/recording_cost.py --seconds 10 --runs 3
    .venv/bin/python bench/recording_cost.py --seconds 60 --switch 3

With ``--switch S`` it is one performance instead, recording switched on and off every
S seconds: a shared machine's slow swings (other guests, clock speed) then fall on both
alike, where separate runs differ by more than recording costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from performer.control.events import Event

from performer import patch
from performer.frames import Frame, Tick
from performer.generators import load_generator
from performer.live import Stage, play
from performer.session import Session


def time_the_recorder(seconds: list[float]) -> None:
    """Add the time of each call of the recorder's frame listener to ``seconds``."""
    from performer.take.recorder import TakeRecorder

    on_frame = TakeRecorder._on_frame

    def timed(recorder: TakeRecorder, frame: Frame, ticks: list[Tick]) -> None:
        began = time.perf_counter()
        on_frame(recorder, frame, ticks)
        seconds.append(time.perf_counter() - began)

    setattr(TakeRecorder, "_on_frame", timed)  # noqa: B010 (mypy refuses "=" on a method)


def one_run(args: argparse.Namespace, record: bool, takes: Path) -> float:
    from performer.render.headless import Headless

    session = Session(patch.load(args.patch), load_generator(args.model))
    session.prepare()
    with Headless(args.width, args.height) as surface:
        stage = Stage(session, surface, fps=args.fps, takes=takes)
        stage.record(record)
        play(stage, args.seconds)
        frame = session.latest()
        stage.close()
    session.close()
    return (frame.number + 1) / args.seconds if frame else 0.0


def switching_run(args: argparse.Namespace, takes: Path) -> dict[bool, list[float]]:
    """Generated frames/s in each window of ``args.switch`` seconds, by whether the
    window was recorded (the first window, with the model's warm-up, is left out)."""
    from performer.render.headless import Headless

    session = Session(patch.load(args.patch), load_generator(args.model))
    session.prepare()
    rates: dict[bool, list[float]] = {False: [], True: []}
    done = threading.Event()

    def switch() -> None:
        recording, last = False, None
        while not done.wait(args.switch):
            frame, now = session.latest(), time.perf_counter()
            if frame is not None and last is not None:
                rates[recording].append((frame.number - last[0]) / (now - last[1]))
            last = (frame.number, now) if frame is not None else None
            recording = not recording
            command = "record/start" if recording else "record/stop"
            session.commands[command](Event(session.clock.now(), command, True))

    with Headless(args.width, args.height) as surface:
        stage = Stage(session, surface, fps=args.fps, takes=takes)
        switcher = threading.Thread(target=switch, daemon=True)
        switcher.start()
        play(stage, args.seconds)
        done.set()
        switcher.join()
        stage.close()
    session.close()
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patch", default="demo")
    parser.add_argument("--model", help="default: the embedded model")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fps", type=int, default=30, help="display and video rate")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (as performer play)")
    parser.add_argument(
        "--switch", type=float, default=0.0, help="one run, recording on and off every S s"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.switch > 0:
            rates = switching_run(args, Path(tmp))
            how = f"{len(rates[False])} plain and {len(rates[True])} recorded windows"
            how += f" of {args.switch:g} s in one run"
        else:
            rates = {False: [], True: []}
            listener_s: list[float] = []
            time_the_recorder(listener_s)
            for _ in range(args.runs):
                for record in (False, True):
                    rates[record].append(one_run(args, record, Path(tmp)))
                    label = "recording" if record else "plain    "
                    print(f"{label}  {rates[record][-1]:6.1f} frames/s")
            how = f"{args.runs} runs of {args.seconds:g} s each way"
            ms = sorted(1000 * s for s in listener_s)
            print(
                f"the recorder on the generator's thread: median {statistics.median(ms):.3f} "
                f"ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.3f} ms a frame ({len(ms)} frames)"
            )
    plain, recording = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"{how}; median generated frames/s: plain {plain:.1f}, recording {recording:.1f} "
        f"({args.width}x{args.height} video at {args.fps} fps); "
        f"recording costs {100 * (1 - recording / plain):.1f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
