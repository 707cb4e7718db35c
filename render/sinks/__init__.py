"""render.sinks — live video out: NDI, a virtual camera, Spout, Syphon.

Backends are chosen by the spec's name and imported when opened. Each sink sends on
its own thread from a one-slot handoff, so ``send()`` never waits for the network or
the device; frames it could not keep up with are dropped and counted.

Cheat sheet::

    from performer.render.sinks import open_sink, VideoSinkError
    sink = open_sink("ndi:performer", fps=30)   # vcam, vcam:/dev/video10, spout:X, syphon:X
    sink.start(512, 512)                        # opens here: VideoSinkError, one line
    sink.send(rgb, now)                         # H×W×3 uint8; a new size reopens the output
    sink.sent, sink.dropped, sink.failures
    sink.stop()                                 # safe twice

A sink that fails mid-show (the loopback device removed, the network gone) logs one line
at most every 10 s, is reopened on a later frame, and never stops the show. Spout
(Windows) and Syphon (macOS) are thin and untested on this project's Linux machines.
"""

from __future__ import annotations

from performer.render.sinks.sink import VideoSink, VideoSinkError

__all__ = ["SINKS", "VideoSink", "VideoSinkError", "open_sink"]

SINKS = "ndi:NAME, vcam[:DEVICE], spout:NAME or syphon:NAME"


def open_sink(spec: str, fps: float = 30.0) -> VideoSink:
    """The sink a spec names, not started yet; VideoSinkError names what is accepted."""
    kind, _, target = spec.partition(":")
    if kind in ("ndi", "spout", "syphon") and not target:
        raise VideoSinkError(f"output {spec!r}: {kind}: needs a name after the colon")
    if kind == "ndi":
        from performer.render.sinks.ndi import NdiSink

        return NdiSink(spec, target, fps)
    if kind == "vcam":
        from performer.render.sinks.vcam import VirtualCameraSink

        return VirtualCameraSink(spec, target or None, fps)
    if kind == "spout":
        from performer.render.sinks.spout import SpoutSink

        return SpoutSink(spec, target, fps)
    if kind == "syphon":
        from performer.render.sinks.syphon import SyphonSink

        return SyphonSink(spec, target, fps)
    raise VideoSinkError(f"output {spec!r} is not one of: {SINKS}")
