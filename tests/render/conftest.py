"""Fixtures for render tests: a headless EGL renderer and a private Xvfb display."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from render.headless import Headless

XVFB_SCREEN = (1280, 720)
_FIRST_DISPLAY = 140  # clear of the :0/:99 others start by hand
_XVFB_START_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


@pytest.fixture
def make_headless() -> Iterator[Callable[[int, int], Headless]]:
    """``make_headless(w, h)``; skips the test when EGL is not available."""
    opened: list[Headless] = []

    def make(width: int, height: int) -> Headless:
        try:
            out = Headless(width, height)
        except RuntimeError as error:
            pytest.skip(f"headless EGL unavailable: {error}")
        opened.append(out)
        return out

    yield make
    for out in opened:
        out.close()


def _display_taken(number: int) -> bool:
    return Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies, even if finalizers never run."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _start_xvfb(number: int) -> subprocess.Popen[bytes] | None:
    """Xvfb on ``:number``, running and listening, or None if that display was taken."""
    width, height = XVFB_SCREEN
    read_fd, write_fd = os.pipe()
    # -displayfd: Xvfb writes the display number there once it accepts clients.
    command = ["Xvfb", f":{number}", "-displayfd", str(write_fd)]
    command += ["-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"]
    server = subprocess.Popen(
        command,
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as ready:
        line = ready.readline()  # EOF when the server dies (display already in use)
    if line.strip() == str(number).encode():
        return server
    server.wait(timeout=_XVFB_START_TIMEOUT_S)
    return None


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """A private Xvfb server (1280×720×24) for the session; yields its DISPLAY."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb binary not found (Debian package: xvfb)")
    for number in range(_FIRST_DISPLAY, _FIRST_DISPLAY + 50):
        if _display_taken(number):
            continue
        server = _start_xvfb(number)
        if server is not None:
            break
    else:
        pytest.fail("no free X display number for Xvfb in :140–:189")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=_XVFB_START_TIMEOUT_S)


@pytest.fixture
def display(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY pointing at the private Xvfb for this test only (and no Wayland)."""
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return xvfb


def _card(width: int, height: int) -> np.ndarray:
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:, : width // 2] = (255, 0, 0)
    frame[:, width // 2 :] = (0, 0, 255)
    side = max(height // 6, 2)
    frame[side // 2 : side // 2 + side, side // 2 : side // 2 + side] = 255
    return frame


@pytest.fixture
def card() -> Callable[[int, int], np.ndarray]:
    """``card(w, h)``: left half red, right half blue, a white square at the top-left.

    The square spans rows/columns ``h//12`` to ``h//12 + h//6`` (for h >= 12).
    """
    return _card
