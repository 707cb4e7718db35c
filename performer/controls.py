"""Start the inputs a performance listens to: OSC (+ OSCQuery) and MIDI.

Each input that cannot start (port in use, no MIDI system) is reported in one line
and the performance goes on without it. OSC and OSCQuery share one allow-list
(:class:`control.allow.AllowList`): whoever may not send OSC may not read the state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from performer.session import Session

log = logging.getLogger(__name__)


@dataclass
class ControlOptions:
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


def start_controls(session: Session, options: ControlOptions) -> list[Any]:
    """Start what ``options`` ask for; returns the started inputs (each has ``stop()``)."""
    started: list[Any] = []
    if options.osc_port is not None:
        started += _osc(session, options)
    if options.midi or options.midi_virtual:
        from performer.control.midi import MidiInput, MidiUnavailable

        midi = MidiInput(options.midi, session.inbox, session.clock, options.midi_virtual)
        try:
            midi.start()
        except MidiUnavailable as exc:
            log.warning("%s; playing without MIDI", exc)
        else:
            started.append(midi)
    if options.link:
        started += _link(session)
    if options.audio_in is not None:
        started += _audio(session, options)
    return started


def _osc(session: Session, options: ControlOptions) -> list[Any]:
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
    session.listeners.append(server.feedback)
    if options.oscquery_port is None:
        return [server]
    return [server, *_oscquery(session, server, options)]


def _audio(session: Session, options: ControlOptions) -> list[Any]:
    from performer.control.audio import AudioInput, AudioUnavailable
    from performer.control.audio_clock import AudioClock

    clock = session.clock if isinstance(session.clock, AudioClock) else None
    audio = AudioInput(
        options.audio_in,
        options.audio_channels,
        session.inbox,
        passthrough=options.audio_through,
        clock=clock,
    )
    try:
        audio.start()
    except AudioUnavailable as exc:
        log.warning("no audio input: %s; playing on without audio features", exc)
        return []
    log.info("audio in: %s (%d channels)", audio.device_name, audio.channel_count)
    return [audio]


def _link(session: Session) -> list[Any]:
    from performer.control.link import LinkSync

    try:
        sync = LinkSync(session.conductor.transport)
        sync.start()
    except ImportError as exc:
        log.warning("%s; playing without Link", exc)
        return []
    session.pollers.append(sync.poll)
    log.info("Ableton Link on: tempo and beat follow the Link session")
    return [sync]


def _oscquery(session: Session, server: Any, options: ControlOptions) -> list[Any]:
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


def stop_controls(started: list[Any]) -> None:
    for control in reversed(started):
        control.stop()
