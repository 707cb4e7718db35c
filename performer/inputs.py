"""The inputs a show listens to: OSC (+ OSCQuery), MIDI, audio and Ableton Link.

Each input that cannot start (port in use, no MIDI system, no sound card, no Link) is
reported in one line and the performance goes on without it. OSC and OSCQuery share
one allow-list (:class:`control.allow.AllowList`): whoever may not send OSC may not
read the state. The audio input owns the performance clock while it runs: it is made
first, so the session is built on its clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from performer.control.clock import Clock
from performer.control.events import Inbox
from performer.session import Session

log = logging.getLogger(__name__)


@dataclass
class InputOptions:
    osc_host: str = "127.0.0.1"
    osc_port: int | None = 9000  # None: no OSC
    osc_allow: list[str] = field(default_factory=list)
    oscquery_port: int | None = 9010  # None: no OSCQuery
    mdns: bool = False
    midi: list[str] = field(default_factory=list)  # port name patterns
    midi_virtual: bool = True
    link: bool = False  # join an Ableton Link session (multicast on the local network)
    audio_in: str | int | None = None  # device name (or part of it) or index; None: no audio
    audio_channels: tuple[int, ...] | None = None  # 1-based, e.g. (3, 4)
    audio_through: str | int | None = None  # pass the input through to this output


class Inputs:
    """The inputs ``options`` ask for, each with ``start()/stop()``; events go to ``inbox``."""

    def __init__(self, options: InputOptions, inbox: Inbox):
        self.options = options
        self.audio: Any = None  # an AudioInput while audio runs (the take records it)
        if options.audio_in is not None:
            from performer.control.audio import AudioInput

            self.audio = AudioInput(
                options.audio_in, options.audio_channels, inbox, passthrough=options.audio_through
            )
        self.started: list[Any] = []

    @property
    def clock(self) -> Clock | None:
        """The audio device's clock when audio is asked for (it falls back to monotonic
        time while no audio runs); None: the show chooses."""
        return None if self.audio is None else self.audio.clock

    def start(self, session: Session) -> None:
        """Start every input asked for on ``session``'s inbox and clock."""
        options = self.options
        if options.osc_port is not None:
            self.started += _osc(session, options)
        if options.midi or options.midi_virtual:
            self.started += _midi(session, options)
        if options.link:
            self.started += _link(session)
        if self.audio is not None:
            if _audio(self.audio):
                self.started.append(self.audio)
            else:
                self.audio = None  # it did not start: the take records no sound

    def stop(self) -> None:
        """Stop what was started, last first (safe twice)."""
        started, self.started = self.started, []
        for part in reversed(started):
            part.stop()


def _midi(session: Session, options: InputOptions) -> list[Any]:
    from performer.control.midi import MidiInput, MidiUnavailable

    midi = MidiInput(options.midi, session.inbox, session.clock, options.midi_virtual)
    try:
        midi.start()
    except MidiUnavailable as exc:
        log.warning("%s; playing without MIDI", exc)
        return []
    return [midi]


def _osc(session: Session, options: InputOptions) -> list[Any]:
    from performer.control.allow import AllowList, open_warning
    from performer.control.osc import OscRouter
    from performer.control.osc_server import OscServer

    assert options.osc_port is not None
    try:
        allow = AllowList.parse(options.osc_allow)
    except ValueError as exc:  # the CLI checks first; this is for other callers
        log.error("%s; playing without OSC", exc)
        return []
    warning = open_warning(allow, options.osc_host)
    if warning:
        log.warning(warning)
    router = OscRouter(session.inbox, session.clock, session.store)
    if not allow.everyone:  # single hosts named on the list get full replies; a host
        router.trust(allow.trusts)  # let in by a network entry keeps its byte budget
    server = OscServer(router, options.osc_host, options.osc_port, allow)
    try:
        server.start()
    except OSError as exc:
        log.error("%s; playing without OSC", exc.strerror or exc)
        return []
    session.on_changes(server.feedback)
    if options.oscquery_port is None:
        return [server]
    return [server, *_oscquery(session, server, options)]


def _oscquery(session: Session, server: Any, options: InputOptions) -> list[Any]:
    from performer.control.oscquery import OscQueryServer

    assert options.oscquery_port is not None
    try:
        query = OscQueryServer(
            session.store,
            server.address,
            options.osc_host,
            options.oscquery_port,
            options.mdns,
            allow=server.allow,  # the same list: who may not play may not read either
        )
    except OSError as exc:
        log.error(
            "cannot serve OSCQuery on %s:%d: %s; playing without it",
            options.osc_host,
            options.oscquery_port,
            exc.strerror or exc,
        )
        return []
    query.start()
    return [query]


def _audio(audio: Any) -> bool:
    from performer.control.audio import AudioUnavailable

    try:
        audio.start()
    except AudioUnavailable as exc:
        log.warning("no audio input: %s; playing on without audio features", exc)
        return False
    log.info("audio in: %s (%d channels)", audio.device_name, audio.channel_count)
    return True


def _link(session: Session) -> list[Any]:
    """Link follows into the inbox as tempo events; it leads when the transport's tempo
    moved here, which it reads (control/ knows nothing of mappings/)."""
    from performer.control.link import LinkSync

    transport = session.conductor.transport
    try:
        sync = LinkSync(
            session.inbox, session.clock, lambda: transport.bpm, transport.beats_per_bar
        )
    except ImportError as exc:
        log.warning("%s; playing without Link", exc)
        return []
    sync.start()
    log.info("Ableton Link on: tempo and beat follow the Link session")
    return [sync]
