"""Takes keep their input: a take played from a video file stores the input frames its
frames started from, each once and losslessly, and replays from them bit-identically."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from performer.control.clock import FakeClock, MonotonicClock
from performer.control.video import InputFrame, open_source
from performer.control.video.file import FileSource

from performer import live, patch
from performer.frames import Frame
from performer.generators.embedded import EmbeddedGenerator
from performer.live import Stage
from performer.offline import FrameExact, render_to_file
from performer.replay import replay
from performer.session import Session
from performer.take import inputs as take_inputs
from performer.take import read_log, read_take
from performer.take.format import check
from performer.take.inputs import InputWriter, RecordedInput

SOURCE_FPS = 10  # slower than the embedded model: several frames start from one input


def numbered(number: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A picture that shows its number: eight blocks, one bit each, and a gradient."""
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 2] = np.linspace(0, 255, width, dtype=np.uint8)
    for bit in range(8):
        if number >> bit & 1:
            image[: height // 2, bit * width // 8 : (bit + 1) * width // 8] = 255
    return image


def write_numbered(path: Path, frames: int, fps: int = SOURCE_FPS) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(frames):
            picture = av.VideoFrame.from_ndarray(numbered(n), format="rgb24")
            picture.pts = n
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@dataclass
class Played:
    folder: Path
    frames: list[Frame]  # as the show made them, each with the input it started from


def play_from(source_path: Path | None, takes: Path, seconds: float = 1.5) -> Played:
    """Play headless from the file (or no input) while recording a take."""
    from performer.render.headless import Headless

    clock = MonotonicClock()
    source = open_source(str(source_path), clock) if source_path else None
    overrides = {"width": 32, "height": 32, "input_mix": 0.5, "timestep": 0.6}
    session = Session(patch.loads(""), EmbeddedGenerator(), clock, overrides, source=source)
    session.prepare()
    made: list[Frame] = []
    session.subscribe(lambda frame, _: made.append(frame))
    if source is not None:
        source.start()  # after prepare(): the file starts with the show's clock
    try:
        with Headless(48, 32) as surface:
            stage = Stage(session, surface, fps=20, takes=takes)
            stage.record(True)
            folder = stage.take.folder
            live.play(stage, seconds)
            stage.close()
    finally:
        if source is not None:
            source.stop()
        session.close()
    return Played(folder, made)


@pytest.fixture(scope="module")
def numbered_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_numbered(tmp_path_factory.mktemp("input") / "numbered.mp4", 40)


@pytest.fixture(scope="module")
def played(numbered_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Played:
    return play_from(numbered_file, tmp_path_factory.mktemp("takes"))


def _logged(played: Played) -> list[dict[str, object]]:
    """The take's log lines as written (only what the recorder logged)."""
    lines = (played.folder / "control.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _stored_pictures(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.slow
def test_a_take_stores_each_input_frame_used_once_before_the_first_frame_using_it(
    played: Played,
) -> None:
    records = _logged(played)
    logged = {r["frame"]: r for r in records if r["type"] == "frame"}
    made = [f for f in played.frames if f.number in logged]
    assert len(made) == len(logged), "every frame the show made is in the take's log"
    used = [f.input for f in made if f.input is not None]
    assert len(used) > len({i.number for i in used}) > 5, "frames shared inputs; many inputs"

    inputs = [r for r in records if r["type"] == "input"]
    numbers = [r["number"] for r in inputs]
    assert numbers == sorted({i.number for i in used}), "each input frame used, stored once"
    assert all(r["file"] == "input.mkv" for r in inputs)
    assert [r["at"] for r in inputs] == list(range(len(inputs)))
    for frame in made:
        assert logged[frame.number].get("input") == (frame.input and frame.input.number)
    first_use = {}
    for place, record in enumerate(records):
        if record["type"] == "frame" and "input" in record:
            first_use.setdefault(record["input"], place)
    places = {r["number"]: records.index(r) for r in inputs}
    assert all(places[n] < first_use[n] for n in numbers), "the input line comes first"

    # input.mkv holds exactly those pictures, bit for bit, at the input's own size
    stored = _stored_pictures(played.folder / "input.mkv")
    by_number = {i.number: i for i in used}
    assert len(stored) == len(inputs)
    for picture, record in zip(stored, inputs, strict=True):
        live_input = by_number[record["number"]]
        assert picture.shape == (48, 64, 3)
        assert np.array_equal(picture, live_input.image)
        assert record["t"] == live_input.time and record["index"] == live_input.index


@pytest.mark.slow
def test_a_take_with_input_replays_bit_identically_from_the_recorded_input(
    played: Played, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[InputFrame | None] = []

    class Watched(RecordedInput):
        def latest(self) -> InputFrame | None:
            frame = super().latest()
            handed.append(frame)
            return frame

    monkeypatch.setattr("performer.replay.RecordedInput", Watched)
    result = replay(played.folder, EmbeddedGenerator(), tmp_path / "again.mp4", {})
    assert result.identical == result.frames == len(handed) and result.unfed == 0

    # the replayed session was handed, frame by frame, the very pictures of the show
    logged = {r["frame"] for r in read_log(played.folder / "control.jsonl") if r["type"] == "frame"}
    shown = [f for f in played.frames if f.number in logged]
    for live_frame, again in zip(shown, handed, strict=True):
        if live_frame.input is None:
            assert again is None
            continue
        assert again is not None and again.number == live_frame.input.number
        assert np.array_equal(again.image, live_frame.input.image)
        assert not again.image.flags.writeable

    bigger = replay(
        played.folder, EmbeddedGenerator(), tmp_path / "big.mp4", {"width": 64, "height": 64}
    )
    assert bigger.frames == result.frames and bigger.compared == 0 and bigger.unfed == 0


@pytest.mark.slow
def test_a_take_without_input_is_written_as_before(tmp_path: Path) -> None:
    played = play_from(None, tmp_path, seconds=0.6)
    assert not list(played.folder.glob("input*"))
    records = _logged(played)
    assert records and all(r["type"] != "input" and "input" not in r for r in records)
    assert not any(read_take(played.folder).inputs)


def _copy(folder: Path, to: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, to))


@pytest.mark.slow
def test_a_missing_input_file_gives_one_line_and_the_replay_goes_on(
    played: Played, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    take = _copy(played.folder, tmp_path / "take")
    (take / "input.mkv").unlink()
    with caplog.at_level(logging.WARNING, logger=take_inputs.__name__):
        result = replay(take, EmbeddedGenerator(), tmp_path / "again.mp4", {})
    fed = sum(line is not None for line in read_take(take).inputs)
    assert result.frames == len(read_take(take).frames) and result.unfed == fed > 0
    assert result.identical < result.frames, "at input_mix 0.5 the input moves the picture"
    (line,) = [r.getMessage() for r in caplog.records if r.name == take_inputs.__name__]
    assert "input.mkv: missing" in line and "without their input" in line


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["cut", "scribbled"])
def test_a_damaged_input_file_gives_one_line_and_feeds_what_is_good(
    played: Played, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    take = _copy(played.folder, tmp_path / "take")
    path = take / "input.mkv"
    data = bytearray(path.read_bytes())
    if damage == "cut":  # a take killed while it wrote
        del data[len(data) * 2 // 3 :]
    else:  # a picture's bytes changed: the decoder hides it, the fingerprint does not
        with av.open(str(path)) as container:
            packets = [p for p in container.demux(video=0) if p.size]
        middle = packets[len(packets) // 2]
        assert middle.pos is not None and middle.size > 16
        data[middle.pos + middle.size // 2 : middle.pos + middle.size // 2 + 8] = bytes(8)
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger=take_inputs.__name__):
        result = replay(take, EmbeddedGenerator(), tmp_path / "again.mp4", {})
    fed = sum(line is not None for line in read_take(take).inputs)
    assert 0 < result.unfed < fed, "the frames before the damage had their input"
    (line,) = [r.getMessage() for r in caplog.records if r.name == take_inputs.__name__]
    assert "input.mkv" in line and "without their input" in line


def _input(number: int, image: np.ndarray, time: float) -> InputFrame:
    image.flags.writeable = False
    return InputFrame(image, number, number, time)


def test_an_input_that_changes_size_goes_on_in_a_second_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    sizes = [(48, 64), (48, 64), (31, 17), (31, 17), (48, 64)]  # odd sizes too
    frames = [
        _input(n, rng.integers(0, 256, (*s, 3), np.uint8), n / 30) for n, s in enumerate(sizes)
    ]
    writer = InputWriter(tmp_path, 0.0)
    stored = [writer.write(f) for f in frames]
    writer.close()
    assert [(s.file, s.at) for s in stored if s] == [
        ("input.mkv", 0),
        ("input.mkv", 1),
        ("input-2.mkv", 0),
        ("input-2.mkv", 1),
        ("input-3.mkv", 0),
    ]
    recorded = RecordedInput(tmp_path)
    for frame, where in zip(frames, stored, strict=True):
        assert where is not None
        line = {"number": frame.number, "index": frame.index, "t": frame.time}
        recorded.cue({**line, "file": where.file, "at": where.at, "sha1": where.sha1})
        again = recorded.latest()
        assert again is not None and np.array_equal(again.image, frame.image)
    recorded.cue(None)
    assert recorded.latest() is None and recorded.unfed == 0
    recorded.close()


def test_an_input_that_cannot_be_written_stops_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = InputWriter(tmp_path / "gone", 0.0)
    frame = _input(0, np.zeros((8, 8, 3), np.uint8), 0.0)
    with caplog.at_level(logging.ERROR, logger=take_inputs.__name__):
        assert writer.write(frame) is None and writer.write(frame) is None
    assert writer.error is not None and "gone/input.mkv" in writer.error
    assert len(caplog.records) == 1
    writer.close()


GOOD = {
    "type": "input",
    "number": 3,
    "index": 3,
    "t": 1.5,
    "file": "input.mkv",
    "at": 0,
    "sha1": "0" * 40,
}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"file": "../video.mp4"}, "'file' must be input.mkv or input-N.mkv"),
        ({"file": "/etc/passwd"}, "'file' must be"),
        ({"file": "input-1.mkv"}, "'file' must be"),
        ({"at": -1}, "'at' must be a frame of that file"),
        ({"at": True}, "'at' must be"),
        ({"sha1": "xyz"}, "'sha1' must be 40 hex digits"),
        ({"t": float("inf")}, "'t' must be a time"),
        ({"number": "3"}, "'number' must be an input frame number"),
    ],
)
def test_input_lines_are_checked(change: dict[str, object], says: str) -> None:
    assert check(dict(GOOD)) is None and check({**GOOD, "file": "input-12.mkv"}) is None
    why = check({**GOOD, **change})
    assert why is not None and says in why


def test_a_frame_line_names_its_input_by_number() -> None:
    frame = {"type": "frame", "frame": 0, "t": 0.0, "sha1": "a"}
    assert check({**frame, "input": 3}) is None
    assert "'input' must be an input frame number" in str(check({**frame, "input": "3"}))


def test_an_offline_render_takes_frame_n_from_frame_n_of_the_file(
    numbered_file: Path, tmp_path: Path
) -> None:
    clock = FakeClock()
    file = open_source(str(numbered_file), clock)
    assert isinstance(file, FileSource)
    overrides = {"width": 32, "height": 32, "input_mix": 0.5}
    source = FrameExact(file, clock)
    session = Session(patch.loads(""), EmbeddedGenerator(), clock, overrides, source=source)
    session.prepare()
    made: list[Frame] = []
    session.subscribe(lambda frame, _: made.append(frame))
    try:
        written = render_to_file(session, tmp_path / "out.mp4", 45, SOURCE_FPS, (32, 32))
    finally:
        session.close()
        file.stop()
    assert written == 45 and [f.number for f in made] == list(range(45))
    check_file = open_source(str(numbered_file), FakeClock())
    assert isinstance(check_file, FileSource)
    for n, frame in enumerate(made):
        assert frame.input is not None
        assert (frame.input.number, frame.input.index) == (n, n % 40), "looped after 40"
        assert np.array_equal(frame.input.image, check_file.frame_at(n % 40))
    check_file.stop()


class Still:
    """A source that always hands over one picture."""

    def __init__(self, frame: InputFrame):
        self.frame = frame

    def latest(self) -> InputFrame:
        return self.frame


def test_input_frames_are_encoded_on_the_recorders_thread_not_the_generators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from performer.take.recorder import TakeRecorder

    threads: list[str] = []
    write = InputWriter.write

    def watched(self: InputWriter, frame: InputFrame) -> object:
        threads.append(threading.current_thread().name)
        return write(self, frame)

    monkeypatch.setattr(InputWriter, "write", watched)
    source = Still(_input(7, numbered(7), 0.0))
    session = Session(
        patch.loads(""), EmbeddedGenerator(), FakeClock(), {"width": 32}, source=source
    )
    session.prepare()
    take = TakeRecorder(session, tmp_path, (32, 32), 20)
    for _ in range(3):
        session.step()
    take.stop()
    session.close()
    assert threads == ["take log"], "one input frame, stored once, off the generator's thread"
    records = [
        r for r in read_log(take.folder / "control.jsonl") if r["type"] in ("input", "frame")
    ]
    assert [r["type"] for r in records] == ["input", "frame", "frame", "frame"]
    assert all(r.get("input") == 7 for r in records[1:])


KILLED_WRITER = """
import sys, time
import numpy as np
from pathlib import Path
from performer.control.video import InputFrame
from performer.take.inputs import InputWriter
writer = InputWriter(Path(sys.argv[1]), 0.0)
rng = np.random.default_rng(0)
for n in range(300):
    image = rng.integers(0, 256, (48, 64, 3), np.uint8)
    image.flags.writeable = False
    stored = writer.write(InputFrame(image, n, n, n / 30))
    print(stored.file, stored.at, stored.sha1, flush=True)
    time.sleep(1 / 30)
"""


@pytest.mark.slow
def test_a_killed_take_keeps_its_input_but_the_last_moments(tmp_path: Path) -> None:
    import subprocess
    import sys

    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    lines = [writer.stdout.readline().split() for _ in range(45)]
    writer.kill()
    writer.wait()
    recorded = RecordedInput(tmp_path)
    for n, (file, at, sha1) in enumerate(lines):
        recorded.cue(
            {"number": n, "index": n, "t": n / 30, "file": file, "at": int(at), "sha1": sha1}
        )
    recorded.close()
    # Matroska clusters of 200 ms: at 30 frames a second, about 6 frames in the making
    # (3 were lost in each of 3 runs here)
    assert recorded.unfed <= 10, f"{recorded.unfed} of {len(lines)} input frames lost"


def test_a_hand_edited_log_cannot_point_the_replay_astray(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Frames naming inputs never logged, a bad input line, one far past its file's end."""
    writer = InputWriter(tmp_path, 0.0)
    stored = writer.write(_input(0, numbered(0), 0.0))
    writer.close()
    assert stored is not None
    good = {**GOOD, "number": 0, "sha1": stored.sha1}
    lines = [
        {"type": "take", "t": 0.0, "params": {}},
        good,
        {**GOOD, "number": 1, "file": "../take.json"},  # skipped: the frame has no input
        {**GOOD, "number": 2, "at": 10**9, "sha1": stored.sha1},
        *({"type": "frame", "frame": n, "t": n / 10, "sha1": "a", "input": n} for n in range(4)),
    ]
    (tmp_path / "take.json").write_text("{}")
    (tmp_path / "control.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    take = read_take(tmp_path)
    assert take.bad.count == 1 and "'file' must be" in take.bad.reasons[0]
    assert [line and line["number"] for line in take.inputs] == [0, None, 2, None]
    recorded = RecordedInput(tmp_path)
    with caplog.at_level(logging.WARNING, logger=take_inputs.__name__):
        for line in take.inputs:
            recorded.cue(line)
    recorded.close()
    assert recorded.unfed == 1
    (said,) = [r.getMessage() for r in caplog.records]
    assert "holds only 1 frame; the log names frame 1000000000" in said
