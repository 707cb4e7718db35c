"""What storing a take's input costs: the recorder thread's time per input frame, and
the size of input.mkv per second, for FFmpeg's testsrc2 at 30 fps.

Times ``InputWriter.write`` (the encode, the mux and the picture's SHA-1: all that the
recorder's thread does for a new input frame), median of --runs runs of --seconds each,
at 640x480 and 1280x720; and, for comparison, FFV1 (bgr0) in the same file through the
same calls, the other lossless codec in Matroska that PyAV offers here.

    .venv/bin/python bench/input_encode.py --seconds 4 --runs 3
    .venv/bin/python bench/input_encode.py --noise 10    # with a camera's grain
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import numpy as np
from performer.control.video import InputFrame

from performer.take import inputs
from performer.take.inputs import InputWriter

SIZES = ((640, 480), (1280, 720))
FPS = 30


def testsrc2(width: int, height: int, seconds: float, noise: int) -> list[np.ndarray]:
    spec = f"testsrc2=size={width}x{height}:rate={FPS}:duration={seconds}"
    if noise:  # a camera's sensor noise: what a lossless file pays for most
        spec += f",noise=alls={noise}:allf=t"
    with av.open(spec, format="lavfi") as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def one_run(pictures: list[np.ndarray], folder: Path) -> tuple[float, float]:
    """(median seconds per frame, bytes per second of input)."""
    writer = InputWriter(folder, 0.0)
    seconds = []
    for n, picture in enumerate(pictures):
        picture.flags.writeable = False
        frame = InputFrame(picture, n, n, n / FPS)
        began = time.perf_counter()
        assert writer.write(frame) is not None, writer.error
        seconds.append(time.perf_counter() - began)
    writer.close()
    size = sum(f.stat().st_size for f in folder.glob("input*.mkv"))
    return statistics.median(seconds), size / (len(pictures) / FPS)


def measure(codec: str, pix_fmt: str, options: dict[str, str], args: argparse.Namespace) -> None:
    inputs.CODEC, inputs.PIX_FMT, inputs.OPTIONS = codec, pix_fmt, options
    for width, height in SIZES:
        pictures = testsrc2(width, height, args.seconds, args.noise)
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                runs.append(one_run(pictures, Path(folder)))
        per_frame = statistics.median(r[0] for r in runs) * 1e3
        per_second = statistics.median(r[1] for r in runs) / 1e6
        print(
            f"{codec:10s} {width}x{height}: {per_frame:5.1f} ms a frame (median of "
            f"{args.runs} runs' medians), {per_second:5.2f} MB a second at {FPS} fps"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--noise", type=int, default=0, help="noise strength, 0-100")
    args = parser.parse_args()
    measure(inputs.CODEC, inputs.PIX_FMT, dict(inputs.OPTIONS), args)
    measure("ffv1", "bgr0", {"threads": "1"}, args)


if __name__ == "__main__":
    main()
