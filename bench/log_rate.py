"""How fast a take's control log grows: bytes per second, and per generated frame.

Plays a patch headless on the embedded model (or --model) while recording, for
--seconds per setting, and measures ``control.jsonl``. Settings: the patch as it is;
a prompt of --prompt-chars characters; timestep 0 (a held picture: the generator should
not spin, nor the log); and both. For comparison, each line also gives what
the same frames would have cost in the format before (every frame line carrying the
whole parameter snapshot, prompt included).

    .venv/bin/python bench/log_rate.py --seconds 5
    .venv/bin/python bench/log_rate.py --seconds 5 --patch demo --width 256 --height 256

The goal (issue 12, item 7): at most 50 KB/s at any setting.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from performer import patch
from performer.generators import load_generator
from performer.live import Stage, play
from performer.session import Session
from performer.take import LOG, read_take


def one_setting(args: argparse.Namespace, overrides: dict[str, Any], takes: Path) -> str:
    from performer.render.headless import Headless

    session = Session(patch.load(args.patch), load_generator(args.model), overrides=overrides)
    session.prepare()
    with Headless(args.width, args.height) as surface:
        stage = Stage(session, surface, fps=args.fps, takes=takes)
        stage.record(True)
        assert stage.take is not None
        folder = stage.take.folder
        play(stage, args.seconds)
        stage.close()
    session.close()
    size = (folder / LOG).stat().st_size
    take = read_take(folder)
    frames = len(take.frames)
    seconds = (take.ended or take.frames[-1]["t"]) - take.started if frames else args.seconds
    before = size + sum(len(json.dumps(f["params"], separators=(",", ":"))) for f in take.frames)
    return (
        f"{size / seconds / 1000:8.1f} KB/s  {size / max(frames, 1):6.0f} B/frame  "
        f"{frames / seconds:7.1f} frames/s  (format before: {before / seconds / 1000:8.1f} KB/s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patch", default="default")
    parser.add_argument("--model", help="default: the embedded model")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=int, default=30, help="display and video rate")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--prompt-chars", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (as performer play)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    long_prompt = ("a street with people, houses and a car " * 2000)[: args.prompt_chars]
    settings = {
        "the patch as it is": {},
        f"{args.prompt_chars}-char prompt": {"prompt": long_prompt},
        "timestep 0": {"timestep": 0.0},
        f"timestep 0, {args.prompt_chars}-char prompt": {"timestep": 0.0, "prompt": long_prompt},
    }
    print(
        f"{args.patch} patch, {args.model or 'embedded model'}, {args.width}x{args.height}, "
        f"{args.fps} fps display, {args.seconds:g} s each:"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, overrides in settings.items():
            print(f"  {label:34s} {one_setting(args, overrides, Path(tmp))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
