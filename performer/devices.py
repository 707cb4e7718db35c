"""``performer devices``: what this machine offers, and plainly what it does not."""

from __future__ import annotations

from collections.abc import Callable


def _monitors() -> list[str]:
    from performer.render.window import list_monitors

    return list_monitors()


def _midi() -> list[str]:
    from performer.control.midi import port_names  # checks for ALSA's sequencer before opening it

    inputs, outputs = port_names()
    return [f"in:  {name}" for name in inputs] + [f"out: {name}" for name in outputs]


def _audio() -> list[str]:
    from performer.control.audio import describe_devices, load_sounddevice

    return describe_devices(load_sounddevice())


def _video(ndi: bool) -> list[str]:
    from performer.control.video import list_devices

    lines = []
    for found in list_devices(1.0 if ndi else None):
        names = ", ".join(found.names) or found.note or "none found"
        lines.append(f"{found.kind:<7} {names}   (--input {found.spec})")
    return lines


def report(ndi: bool = False) -> str:
    """Every section; NDI senders only with ``ndi`` (finding them multicasts)."""
    sections: dict[str, tuple[Callable[[], list[str]], str]] = {
        "monitors": (_monitors, "no display (set DISPLAY, or use `performer render`)"),
        "MIDI ports": (
            _midi,
            "no MIDI backend (python-rtmidi) or no MIDI system (ALSA seq / JACK)",
        ),
        "audio devices": (_audio, "no audio backend (PortAudio: apt install libportaudio2)"),
        "video sources": (lambda: _video(ndi), "no video backend (PyAV)"),
    }
    out = []
    for title, (probe, missing) in sections.items():
        out.append(f"{title}:")
        try:
            lines = probe()
        except (ImportError, OSError, RuntimeError, SystemError) as exc:  # AudioUnavailable too
            out.append(f"  unavailable: {missing} [{type(exc).__name__}: {exc}]")
            continue
        out.extend(f"  {line}" for line in lines) if lines else out.append("  none found")
    return "\n".join(out)
