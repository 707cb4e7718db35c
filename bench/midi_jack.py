"""MIDI on JACK and the show: the largest and p99 gap between generated frames.

Plays ``--seconds`` headless shows of the nanoKONTROL2 patch (embedded model) with
``performer play`` on a private JACK dummy server, in these set-ups:

- ``no-jack``: no JACK server, MIDI on the default backend (none here: played without);
- ``jack``: MIDI on JACK (rtmidi UNIX_JACK), no traffic;
- ``jack+cc``: the same, while a controller process sends ``--rate`` CC a second;
- ``jack+audio``: MIDI on JACK and live audio in from the same server, no traffic;
- ``jack+audio+cc``: the same, with the controller sending;
- ``audio``: audio from JACK, MIDI not on JACK.

Each take's log gives the gaps between frame records (``t``). The set-ups run
interleaved, ``--rounds`` times, and the medians are printed, since the machine may be
shared::

    .venv/bin/python bench/midi_jack.py --seconds 20 --rounds 3
    git archive main | tar -x -C /tmp/old   # then, the old one beside this one:
    .venv/bin/python bench/midi_jack.py --against /tmp/old
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from performer.control.jack import cc_peer, start_server

SETUPS = {  # name: (MIDI on JACK, controller sends, audio from JACK)
    "no-jack": (False, False, False),
    "jack": (True, False, False),
    "jack+cc": (True, True, False),
    "jack+audio": (True, False, True),
    "jack+audio+cc": (True, True, True),
    "audio": (False, False, True),
}
JACK_MIDI = "mido.backends.rtmidi/UNIX_JACK"


def frame_gaps(log: Path) -> list[float]:
    """Seconds between consecutive frame records of a take's control log."""
    times = []
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("type") == "frame":
                times.append(float(record["t"]))
    return [b - a for a, b in itertools.pairwise(times)]


def play(
    setup: str, seconds: float, rate: float, folder: Path, code: Path | None = None
) -> dict[str, float]:
    midi_on_jack, sending, audio = SETUPS[setup]
    name = f"performer-midi-bench-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k != "MIDO_BACKEND"}
    env.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    if midi_on_jack:
        env["MIDO_BACKEND"] = JACK_MIDI
    server = start_server(name) if midi_on_jack or audio else None
    peer = cc_peer(name, "nanoKONTROL2", rate, seconds + 10) if sending else None
    takes = folder / setup
    command = [sys.executable, "-c", "import sys; from performer.cli import main; sys.exit(main())"]
    command += ["play", "--headless"]
    command += ["--seconds", str(seconds), "--patch", "nanokontrol2", "--midi", "nano"]
    command += ["--takes", str(takes), "--no-osc", "--no-oscquery"]
    if audio:
        command += ["--audio-in", "system"]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 60, cwd=code
        )
        if done.returncode != 0:
            raise RuntimeError(f"{setup}: performer exited {done.returncode}: {done.stderr}")
    except subprocess.TimeoutExpired:  # the show hung: what its log holds still counts
        print(f"{setup}: the show did not end within {seconds + 60:g} s", flush=True)
    finally:
        if peer is not None:
            peer.kill()
            peer.wait()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    (log,) = takes.glob("*/control.jsonl")
    gaps = sorted(frame_gaps(log))
    return {
        "max_ms": 1000 * gaps[-1],
        "p99_ms": 1000 * gaps[int(0.99 * (len(gaps) - 1))],
        "over_100ms": sum(g > 0.1 for g in gaps),
        "frames": len(gaps) + 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=33.0, help="CC messages a second")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated")
    parser.add_argument(
        "--against",
        type=Path,
        help="also play another checkout of the instrument (e.g. an export of main), "
        "interleaved with this one: its rows are marked old",
    )
    args = parser.parse_args()
    codes: list[tuple[str, Path | None]] = [("", None)]
    if args.against is not None:
        codes.append(("old ", args.against.resolve()))
    setups = [(f"{mark}{s}", s, code) for s in args.setups.split(",") for mark, code in codes]
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in setups}
    with tempfile.TemporaryDirectory(prefix="midi-jack-bench-") as tmp:
        for round_ in range(args.rounds):
            for label, setup, code in setups:
                folder = Path(tmp) / str(round_) / label.replace(" ", "-")
                result = play(setup, args.seconds, args.rate, folder, code)
                results[label].append(result)
                print(f"round {round_ + 1} {label:18s} " + json.dumps(result), flush=True)
    print(f"\nmedians of {args.rounds} interleaved rounds, {args.seconds:g} s shows:")
    print(
        f"{'set-up':18s} {'max gap ms':>10s} {'p99 gap ms':>10s} {'gaps>100ms':>10s} {'frames':>7s}"
    )
    for setup, runs in results.items():
        row = [
            statistics.median(r[k] for r in runs)
            for k in ("max_ms", "p99_ms", "over_100ms", "frames")
        ]
        print(f"{setup:18s} {row[0]:10.0f} {row[1]:10.0f} {row[2]:10.0f} {row[3]:7.0f}")


if __name__ == "__main__":
    main()
