"""Live play for real: a glfw window under Xvfb, and headless play on EGL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from performer import patch
from performer.generators.diffusion import DiffusersGenerator
from performer.live import Stage, play
from performer.session import Session
from tests.helpers import frames_in, needs_ffprobe, video_seconds


def tiny_session(folder: Path, **overrides: object) -> Session:
    session = Session(
        patch.loads("[params]\ncrossfade = 0.0\n"),
        DiffusersGenerator(str(folder)),
        overrides={"width": 64, "height": 64, **overrides},
    )
    session.prepare()
    return session


@pytest.mark.slow
@pytest.mark.display
def test_window_shows_generated_frames(
    tiny_models: dict[str, Path], display: str, tmp_path: Path
) -> None:
    from performer.render.window import Window

    session = tiny_session(tiny_models["sd"])
    with Window(320, 240, title="performer-test") as window:
        window.hud_visible = False
        stage = Stage(session, window)
        drawn = play(stage, seconds=1.5)
        shot = tmp_path / "shot.png"
        subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=30)
        x, y = window.position
        stage.close()
    session.close()
    assert drawn > 5, "the display loop should redraw many times in 1.5 s"
    assert session.latest() is not None
    screen = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    inside = screen[y : y + 240, x : x + 320]
    outside_mean = np.delete(screen, np.s_[y : y + 240], axis=0).mean()
    # the letterboxed 64x64 frame fills the middle 240x240 of the window: it is a picture
    picture = inside[:, 40:280]
    assert picture.std() > 10, "the window should show a generated picture, not a flat fill"
    assert outside_mean < 5, "Xvfb's root window around it stays black"


@pytest.mark.slow
@needs_ffprobe
def test_headless_play_records_a_take_at_the_display_rate(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    from performer.render.headless import Headless

    session = tiny_session(tiny_models["sd"], zoom=1.05)
    with Headless(96, 64) as surface:
        stage = Stage(session, surface, fps=12, takes=tmp_path)
        stage.record(True)
        folder = stage.take.folder
        drawn = play(stage, seconds=1.0)
        stage.close()
    session.close()
    # one picture per slot of 1/12 s; a slot missed on a loaded machine is skipped, as a
    # display skips a refresh, never drawn late in a burst
    assert 9 <= drawn <= 12
    frames, width, height = frames_in(folder / "video.mp4")
    assert (width, height) == (96, 64) and 1 <= frames <= 12
    # frames sit at their time on the clock: a loaded machine skips some, never stretches
    assert 0.7 <= video_seconds(folder / "video.mp4") <= 1.1
    assert session.latest() is not None and session.latest().number >= 1  # type: ignore[union-attr]


def test_the_display_applies_controls_without_waiting_for_the_generator(
    tiny_models: dict[str, Path],
) -> None:
    """Live, input is applied as each picture is drawn: a flash sent between two
    generated frames is on the very next drawn picture, and a tick that fails is
    reported while the picture is still drawn."""
    from performer.control.events import Event
    from performer.render.headless import Headless

    session = tiny_session(tiny_models["sd"])
    session.step()  # one generated frame; no more are made below
    session.ticked = True
    with Headless(32, 32) as surface:
        stage = Stage(session, surface)
        stage.draw(1.0)
        assert surface.read().mean() < 250
        session.inbox.put(Event(1.01, "param:flash", 1.0))
        stage.draw(1.02)
        assert (surface.read() == 255).all(), "the flash is drawn before any new frame"
        assert session.latest().number == 0  # type: ignore[union-attr]
        session.inbox.put(Event(1.03, "param:era", 1900.0))
        session.conductor.tick = None  # type: ignore[assignment,method-assign]
        stage.draw(1.04)  # the tick fails: reported, counted, the picture still drawn
        assert stage.tick_errors == 1 and (surface.read() == 255).all()
        stage.close()
    frame = session.step()
    session.close()
    assert frame.number == 1


def test_the_hud_is_the_performers_not_the_takes(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """With the HUD shown (a window's default), the take records the picture alone: the
    HUD is drawn over it after the take reads it."""
    from performer.render.headless import Headless

    session = tiny_session(tiny_models["sd"])  # not started: no frame yet, a black picture
    recorded: list[np.ndarray] = []
    with Headless(128, 128) as surface:
        stage = Stage(session, surface, fps=10, takes=tmp_path)
        stage.record(True)
        assert stage.take is not None
        write = stage.take.video

        def video(picture: np.ndarray, now: float) -> None:
            recorded.append(picture.copy())
            write(picture, now)

        stage.take.video = video  # type: ignore[method-assign]
        surface.use()
        stage.draw(1.0, hud=True)
        shown = surface.read()
        stage.close()
    session.close()
    assert len(recorded) == 1
    assert shown.max() > 100, "the HUD's text is on the surface the performer sees"
    assert recorded[0].max() == 0, "the take holds the black picture, with no HUD on it"
