"""A real glfw window on a private Xvfb server, checked with an X screenshot."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import glfw
import numpy as np
import pytest
from performer.render.compositor import Compositor
from performer.render.window import Window, list_monitors
from PIL import Image

Card = Callable[[int, int], np.ndarray]


@pytest.fixture
def window(display: str) -> Iterator[Window]:
    win = Window(320, 240, title="performer test")
    yield win
    win.close()


def screenshot(directory: Path) -> np.ndarray:
    if shutil.which("import") is None:
        pytest.skip("imagemagick's `import` not found (Debian package: imagemagick)")
    path = directory / "shot.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=20)
    with Image.open(path) as shot:
        return np.asarray(shot.convert("RGB"))


def pump_until(win: Window, done: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Poll events until ``done()``: X replies to resizes asynchronously."""
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        win.poll()
        time.sleep(0.01)


@pytest.mark.display
def test_drawn_frame_appears_on_screen_upright(window: Window, card: Card, tmp_path: Path):
    assert window.framebuffer_size == (320, 240)
    comp = Compositor(window.ctx)
    comp.push(card(320, 240), now=0.0)
    for _ in range(2):  # both buffers hold the picture, whatever the swap semantics
        window.poll()
        window.use()
        comp.draw(1.0, window.viewport, 0.0)
        window.swap()
    window.ctx.finish()
    shot = screenshot(tmp_path)
    x, y = window.position
    assert shot.shape == (720, 1280, 3)
    picture = shot[y : y + 240, x : x + 320]
    assert tuple(picture[30, 30]) == (255, 255, 255)  # the white square, top-left
    assert tuple(picture[200, 30]) == (255, 0, 0)
    assert tuple(picture[120, 300]) == (0, 0, 255)
    np.testing.assert_array_equal(picture, card(320, 240))
    comp.release()


@pytest.mark.display
def test_keys_toggle_hud_close_and_queue(window: Window):
    assert window.hud_visible
    window.handle_key(glfw.KEY_H, glfw.PRESS)
    assert not window.hud_visible
    window.handle_key(glfw.KEY_H, glfw.RELEASE)
    window.handle_key(glfw.KEY_H, glfw.REPEAT)
    assert not window.hud_visible  # only presses count
    window.handle_key(glfw.KEY_H, glfw.PRESS)
    assert window.hud_visible

    window.handle_key(glfw.KEY_L, glfw.PRESS)
    window.handle_key(glfw.KEY_SPACE, glfw.PRESS)
    window.handle_key(glfw.KEY_F5, glfw.PRESS)
    assert window.take_keys() == ["L", "SPACE", "F5"]
    assert window.take_keys() == []

    assert not window.should_close
    window.handle_key(glfw.KEY_ESCAPE, glfw.PRESS)
    assert window.should_close
    assert window.take_keys() == []  # handled keys are not queued


@pytest.mark.display
def test_f_toggles_fullscreen_and_back(window: Window):
    window.handle_key(glfw.KEY_F, glfw.PRESS)
    pump_until(window, lambda: window.framebuffer_size == (1280, 720))
    assert window.fullscreen
    assert window.framebuffer_size == (1280, 720)
    window.handle_key(glfw.KEY_F, glfw.PRESS)
    pump_until(window, lambda: window.framebuffer_size == (320, 240))
    assert not window.fullscreen
    assert window.framebuffer_size == (320, 240)


@pytest.mark.display
def test_list_monitors_names_the_xvfb_screen(display: str):
    monitors = list_monitors()
    assert len(monitors) == 1
    assert monitors[0].startswith("0: ") and "1280x720" in monitors[0]


@pytest.mark.display
def test_close_is_safe_twice_and_unknown_monitor_is_refused(display: str):
    win = Window(64, 64)
    win.close()
    win.close()
    assert win.should_close
    with pytest.raises(ValueError, match="monitor 3 does not exist"):
        Window(64, 64, monitor=3)


def test_no_display_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RuntimeError, match=r"no display.*performer render"):
        Window(64, 64)
    with pytest.raises(RuntimeError, match="no display"):
        list_monitors()


@pytest.mark.display
def test_window_and_headless_take_turns_on_one_thread(window: Window, card: Card, tmp_path: Path):
    from performer.render.headless import Headless

    with Headless(32, 32) as out:
        offscreen = Compositor(out.ctx)
        offscreen.push(np.full((32, 32, 3), (0, 255, 0), np.uint8), now=0.0)
        window.use()
        onscreen = Compositor(window.ctx)
        onscreen.push(card(320, 240), now=0.0)
        for _ in range(2):
            out.use()
            offscreen.draw(1.0, out.viewport, 0.0)
            assert (out.read() == (0, 255, 0)).all()
            window.use()
            onscreen.draw(1.0, window.viewport, 0.0)
            window.swap()
        offscreen.release()
    window.use()  # the headless context is gone: the window carries on
    onscreen.draw(2.0, window.viewport, 0.0)
    window.swap()
    window.ctx.finish()
    x, y = window.position
    picture = screenshot(tmp_path)[y : y + 240, x : x + 320]
    np.testing.assert_array_equal(picture, card(320, 240))
    onscreen.release()


@pytest.mark.display
def test_window_opens_while_headless_is_open(display: str):
    from performer.render.headless import Headless

    with Headless(16, 16) as out:
        with Window(64, 64) as win:
            win.use()
            win.ctx.clear(0.0, 0.0, 1.0)
            win.swap()
        out.use()
        out.ctx.clear(1.0, 0.0, 0.0)
        assert (out.read() == (255, 0, 0)).all()
