"""control.video — live video in: files, cameras, screens, NDI, FFmpeg URLs, Spout, Syphon.

Backends are chosen by the spec's name and imported when opened: a machine without
cyndilib, SpoutGL or syphon-python imports this package and opens what it has.

Cheat sheet::

    from performer.control.video import open_source, fit, list_devices
    source = open_source("camera", clock)          # or a spec from the table below
    source.start()                                 # opens here: VideoSourceError, one line
    frame = source.latest()                        # never blocks; None before the first
    frame.image, frame.number, frame.index, frame.time   # RGB H×W×3 uint8, read-only
    source.dropped, source.delivered, source.lost  # counts; lost: its last frame is held
    picture = fit(frame.image, 512, 512, "cover", mirror=True)   # contain, stretch
    source.stop()                                  # safe twice

    files = open_source("loop.mp4", clock)         # a FileSource; offline, frame-exact:
    files.frame_at(n)                              # frame n of the file, looped
    files.index_at(seconds), files.fps, files.frames

    list_devices()                                 # [DeviceList(kind, spec, names, note)]

Specs (everything after the last ``?`` is ``key=value&…`` options, passed to FFmpeg)::

    path/to/video.mp4                 a file, looped, on the performance clock
    camera  camera:1  camera:/dev/video2         v4l2 / avfoundation / dshow (camera:NAME)
    screen  screen:640x480+10+20  screen::99.0+0,0           x11grab / avfoundation / gdigrab
    ndi:NAME                          an NDI sender whose name contains NAME (any case)
    ffmpeg:testsrc2=size=320x240:rate=30,realtime?format=lavfi
    ffmpeg:rtsp://camera.local/live   ffmpeg:srt://host:9000?format=mpegts
    spout:NAME (Windows)   syphon:NAME (macOS)   thin, and untested here

The NDI binding is cyndilib, not ndi-python. Both wrap the same NDI SDK. cyndilib (Cython,
MIT) ships the NDI 6 runtime inside its wheel, needs no Avahi daemon, finds senders by
the SDK's own discovery (and by the unicast list of an ``ndi-config.v1.json``, which is
how the tests run NDI on loopback), and offers NDI's frame-sync, which hands over the
sender's newest frame: exactly the one-slot handoff we want. ndi-python (pybind11)
mirrors the C API one to one, needs the SDK installed separately on some systems and the
Avahi daemon for discovery on Linux, and was not runnable on this testbed.
"""

from __future__ import annotations

from performer.control.clock import Clock
from performer.control.video.devices import DeviceList, list_devices
from performer.control.video.fit import FITS, fit
from performer.control.video.frames import InputFrame, SourceLost, VideoSourceError
from performer.control.video.source import VideoSource
from performer.control.video.spec import SourceSpec, parse_source

__all__ = [
    "FITS",
    "DeviceList",
    "InputFrame",
    "SourceLost",
    "SourceSpec",
    "VideoSource",
    "VideoSourceError",
    "fit",
    "list_devices",
    "open_source",
    "parse_source",
]


def open_source(spec: str, clock: Clock) -> VideoSource:
    """The source a spec names, not started yet (see the table above)."""
    parsed = parse_source(spec)
    options = dict(parsed.options)
    if parsed.kind == "file":
        from performer.control.video.file import FileSource

        return FileSource(spec, clock, parsed.target, loop=options.get("loop") != "0")
    if parsed.kind == "ndi":
        from performer.control.video.ndi import NdiSource

        return NdiSource(spec, clock, parsed.target)
    if parsed.kind == "spout":
        from performer.control.video.spout import SpoutSource, import_spoutgl

        import_spoutgl()  # on another system, fail here with one line
        return SpoutSource(spec, clock, parsed.target)
    if parsed.kind == "syphon":
        from performer.control.video.syphon import SyphonSource, import_syphon

        import_syphon()
        return SyphonSource(spec, clock, parsed.target)
    from performer.control.video.ffmpeg import FFmpegSource, camera_input, screen_input

    if parsed.kind == "camera":
        url, format, defaults = camera_input(parsed.target)
    elif parsed.kind == "screen":
        url, format, defaults = screen_input(parsed.target)
    else:
        url, format, defaults = parsed.target, options.pop("format", ""), {}
    return FFmpegSource(spec, clock, url, format or None, {**defaults, **options})
