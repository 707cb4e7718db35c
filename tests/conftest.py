"""Shared fixtures: tiny diffusers model folders written once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from performer.control.jack import die_with_parent
from performer.control.params import REGISTRY, forget

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """torch on one thread for a module, as ``performer render`` runs it: on 2 busy cores
    two threads made each 32x32 frame several times slower. Restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def registry_as_found() -> Iterator[None]:
    """Each test leaves the parameter registry as it found it: the knobs a patch or a
    generator declares (``lora_<name>`` ...) are forgotten after the test."""
    before = set(REGISTRY)
    yield
    for name in [n for n in REGISTRY if n not in before]:
        forget(name)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders holding tiny SD, LCM and SDXL pipelines and a tiny TAESD, saved for real."""
    from performer.generators.tiny import save_tiny_pipeline, save_tiny_vae

    root = tmp_path_factory.mktemp("models")
    folders = {kind: save_tiny_pipeline(root / kind, kind) for kind in ("sd", "lcm", "xl")}
    folders["taesd"] = save_tiny_vae(root / "taesd")
    return folders


XVFB_SCREEN = (1280, 720)
_FIRST_DISPLAY = 140  # clear of the :0/:99 others start by hand
_XVFB_START_TIMEOUT_S = 10.0


def _display_taken(number: int) -> bool:
    return Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists()


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
        preexec_fn=die_with_parent,
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


@pytest.fixture(scope="session")
def jack() -> Iterator[str]:
    """A private JACK server on the dummy driver (real-time audio and MIDI, no sound card).

    Its name goes into JACK_DEFAULT_SERVER, so JACK clients in this process (rtmidi,
    PortAudio) use it and never touch another server on the machine.
    """
    from performer.control.jack import dummy_server, missing

    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    previous = os.environ.get("JACK_DEFAULT_SERVER")
    with dummy_server(f"performer-test-{os.getpid()}") as name:
        os.environ["JACK_DEFAULT_SERVER"] = name
        try:
            yield name
        finally:
            if previous is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = previous
