"""What each video backend sees, as plain data for ``performer devices`` to print."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from performer.control.video.frames import VideoSourceError


@dataclass(frozen=True)
class DeviceList:
    """One backend's findings: a spec to use them, their names, or why there are none."""

    kind: str  # "camera", "ndi", "spout", "syphon"
    spec: str  # how to name one: "camera:DEVICE", "ndi:NAME", ...
    names: list[str] = field(default_factory=list)
    note: str = ""  # why the list is empty or incomplete ("" when it is not)


def list_cameras() -> list[str]:
    """Linux: ``/dev/videoN (its name)``. Elsewhere FFmpeg lists devices only in its log
    (``-list_devices``), which PyAV does not return, so ``performer devices`` says so."""
    if not sys.platform.startswith("linux"):
        raise VideoSourceError(
            f"listing cameras on {sys.platform} is FFmpeg's job: "
            "ffmpeg -f avfoundation -list_devices true -i '' (macOS) or "
            "ffmpeg -f dshow -list_devices true -i dummy (Windows)"
        )
    found = []
    for node in sorted(Path("/dev").glob("video*"), key=lambda p: (len(p.name), p.name)):
        label = Path("/sys/class/video4linux", node.name, "name")
        name = label.read_text().strip() if label.exists() else ""
        found.append(f"{node} ({name})" if name else str(node))
    return found


def _not_searched() -> list[str]:
    raise VideoSourceError("not searched: NDI discovery multicasts (performer devices --ndi)")


def list_devices(ndi_timeout: float | None = 1.0) -> list[DeviceList]:
    """Every backend's list; a backend that is missing or elsewhere says so in ``note``.
    ``ndi_timeout`` None leaves NDI out: finding senders multicasts on the network."""
    from performer.control.video.ndi import list_ndi_sources
    from performer.control.video.spout import list_spout_senders
    from performer.control.video.syphon import list_syphon_servers

    listers: list[tuple[str, str, Callable[[], list[str]]]] = [
        ("camera", "camera:DEVICE", list_cameras),
        (
            "ndi",
            "ndi:NAME",
            _not_searched if ndi_timeout is None else lambda: list_ndi_sources(ndi_timeout),
        ),
        ("spout", "spout:NAME", list_spout_senders),
        ("syphon", "syphon:NAME", list_syphon_servers),
    ]
    found = []
    for kind, spec, lister in listers:
        try:
            found.append(DeviceList(kind, spec, lister()))
        except VideoSourceError as why:
            found.append(DeviceList(kind, spec, note=str(why)))
    return found
