"""MIDI: decoding as pure logic, and real ports through JACK's MIDI (dummy driver)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import mido
import pytest
from performer.control.clock import FakeClock, MonotonicClock
from performer.control.events import Event, Inbox
from performer.control.midi import MidiInput
from performer.control.midi_decode import MidiDecoder


def decode(decoder: MidiDecoder, *messages: mido.Message, now: float = 0.0) -> list[Event]:
    return [e for m in messages for e, _ in decoder.decode(m, now)]


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def test_seven_bit_cc_is_normalised() -> None:
    (event,) = decode(MidiDecoder(), cc(7, 127, channel=2))
    assert (event.source, event.value, event.raw) == ("midi:cc:3:7", 1.0, 127)


def test_fourteen_bit_pairs_msb_and_lsb() -> None:
    decoder = MidiDecoder()
    msb, lsb = decode(decoder, cc(1, 64), cc(33, 127))
    assert msb.source == lsb.source == "midi:cc:1:1"
    assert lsb.raw == (64 << 7) | 127 and lsb.value == pytest.approx(8319 / 16383)


def test_a_lone_cc_32_to_63_is_its_own_control() -> None:
    decoder = MidiDecoder()
    decode(decoder, cc(0, 10), now=0.0)
    (button,) = decode(decoder, cc(32, 127), now=1.0)  # a second later: a button, not an LSB
    assert (button.source, button.value) == ("midi:cc:1:32", 1.0)


def test_nrpn_sets_a_fourteen_bit_parameter() -> None:
    decoder = MidiDecoder()
    events = decode(decoder, cc(99, 1), cc(98, 2), cc(6, 100), cc(38, 5))
    assert [e.source for e in events] == ["midi:nrpn:1:130"] * 2
    assert events[-1].raw == (100 << 7) | 5


def test_bend_notes_and_program_change() -> None:
    decoder = MidiDecoder()
    bend, on, off, program = decode(
        decoder,
        mido.Message("pitchwheel", pitch=0),
        mido.Message("note_on", note=60, velocity=127, channel=9),
        mido.Message("note_on", note=60, velocity=0, channel=9),
        mido.Message("program_change", program=5),
    )
    assert bend.value == pytest.approx(0.5, abs=1e-4)
    assert (on.source, on.value, off.value) == ("midi:note:10:60", 1.0, 0.0)
    assert (program.source, program.raw) == ("midi:program:1", 5)


def test_midi_clock_gives_smoothed_bpm_and_beats() -> None:
    decoder, t = MidiDecoder(), 0.0
    decode(decoder, mido.Message("start"), now=t)
    tempo: list[Event] = []
    for _ in range(96):  # four beats at 120 BPM: a tick every 60 / 120 / 24 s
        t += 60 / 120 / 24
        tempo = decode(decoder, mido.Message("clock"), now=t) or tempo
    beat, bpm = tempo[-1].value
    assert bpm == pytest.approx(120, abs=0.5) and beat == pytest.approx(4.0)
    decode(decoder, mido.Message("songpos", pos=16), now=t)
    assert decoder.clock.ticks == 96  # 16 sixteenths = 4 beats


@pytest.fixture
def jack_midi(jack: str) -> Iterator[None]:
    previous = mido.backend.name
    mido.set_backend("mido.backends.rtmidi/UNIX_JACK", load=True)
    yield
    mido.set_backend(previous)


def wait_for(condition, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_real_ports_through_jack_with_hot_plug(jack_midi: None) -> None:
    inbox = Inbox()
    midi = MidiInput(["test-knobs"], inbox, MonotonicClock(), poll_s=0.1)
    knobs = mido.open_output("test-knobs", virtual=True)
    midi.start()
    try:
        assert "performer" in midi.ports, "a virtual input named performer"
        assert wait_for(lambda: any("test-knobs" in name for name in midi.ports))
        knobs.send(cc(7, 100))
        assert wait_for(lambda: bool(events := inbox.drain()) and events[0].raw == 100)
        knobs.close()  # unplugged
        assert wait_for(lambda: not any("test-knobs" in name for name in midi.ports))
        knobs = mido.open_output("test-knobs", virtual=True)  # plugged back in
        assert wait_for(lambda: any("test-knobs" in name for name in midi.ports))
        knobs.send(mido.Message("note_on", note=64, velocity=64))
        assert wait_for(lambda: any(e.source == "midi:note:1:64" for e in inbox.drain()))
    finally:
        midi.stop()
        knobs.close()


def test_other_software_can_play_the_virtual_port(jack_midi: None) -> None:
    import subprocess

    inbox = Inbox()
    midi = MidiInput([], inbox, FakeClock(), poll_s=0.1)
    midi.start()
    sender = mido.open_output("test-sequencer", virtual=True)
    try:
        ours = next(p for p in _jack_ports() if p.endswith(":performer"))
        theirs = next(p for p in _jack_ports() if p.endswith(":test-sequencer"))
        subprocess.run(["jack_connect", theirs, ours], check=True)
        sender.send(cc(20, 1))
        assert wait_for(lambda: any(e.source == "midi:cc:1:20" for e in inbox.drain()))
    finally:
        sender.close()
        midi.stop()


def _jack_ports() -> list[str]:
    import subprocess

    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, check=True)
    return out.stdout.split("\n")


# Runs in its own process: a crash there (rtmidi on a dead JACK server) fails the test
# instead of ending the suite.
_SERVER_GOES_AND_COMES_BACK = """
import sys, time
import mido
from performer.control.midi import MidiInput
from performer.control.midi_ports import SPARES
from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from tests.control.test_midi import cc, wait_for

mido.set_backend("mido.backends.rtmidi/UNIX_JACK", load=True)
inbox = Inbox()
midi = MidiInput(["test-knobs"], inbox, MonotonicClock(), poll_s=0.1)
knobs = mido.open_output("test-knobs", virtual=True)
midi.start()
assert wait_for(lambda: any("test-knobs" in name for name in midi.ports))
print("ready", flush=True)
sys.stdin.readline()  # the server died and another took its place
knobs.closed = True  # the sender's own port died with its server: leave it alone
knobs = mido.open_output("test-knobs", virtual=True)
assert wait_for(lambda: "performer" in midi.ports, 5), "the virtual port is back"
assert wait_for(lambda: any("test-knobs" in name for name in midi.ports), 5)
knobs.send(cc(7, 100))
assert wait_for(lambda: any(e.raw == 100 for e in inbox.drain()))
# refilled at the rebuild; the knob took one if it came back after the rebuild
assert midi._system is not None and midi._system.spares >= SPARES - 1, "refilled"
midi.stop()
print("heard", flush=True)
"""


@pytest.mark.slow
def test_the_jack_server_goes_and_comes_back(tmp_path: Path) -> None:
    """MIDI through JACK; the server dies and a new one starts: the instrument reports it
    once, does not crash (closing rtmidi ports of a dead server did), opens its ports
    again on the new server and hears the controller, then stops cleanly."""
    from performer.control.jack import missing, start_server

    if missing() is not None:
        pytest.skip(missing())
    name = f"performer-midi-back-{os.getpid()}"
    first = start_server(name)
    player = subprocess.Popen(
        [sys.executable, "-c", _SERVER_GOES_AND_COMES_BACK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"},
        cwd=Path(__file__).resolve().parents[2],
    )
    second = None
    try:
        assert player.stdout is not None and player.stdout.readline().strip() == "ready"
        first.terminate()  # the server goes
        first.wait()
        time.sleep(0.5)  # the watcher finds the system gone
        second = start_server(name)
        out, err = player.communicate("go\n", timeout=60)
    finally:
        player.kill()
        for s in (first, second):
            if s is not None:
                s.terminate()
                s.wait()
    assert player.returncode == 0 and "heard" in out, err[-3000:]
    assert err.count("MIDI stopped, and comes back when the system does") == 1, err[-3000:]


def test_a_message_the_decoder_chokes_on_loses_only_itself(
    jack_midi: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A TypeError from decoding one message once ended the midi thread for the rest of
    the show, and lost the rest of its batch. Now that message is skipped with one
    rate-limited line; the messages after it, and after that batch, still arrive."""
    import logging

    inbox = Inbox()
    midi = MidiInput(["test-knobs"], inbox, MonotonicClock(), poll_s=0.1)
    knobs = mido.open_output("test-knobs", virtual=True)
    real = midi.decoder.decode
    failed: list[int] = []

    def decode_once_badly(message: mido.Message, *args: object) -> object:
        if not failed:
            failed.append(message.control)
            raise TypeError("a decoder bug")
        return real(message, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(midi.decoder, "decode", decode_once_badly)
    caplog.set_level(logging.WARNING, logger="performer.control.midi")
    midi.start()
    try:
        assert wait_for(lambda: any("test-knobs" in name for name in midi.ports))
        for control in (70, 71, 72):  # one burst, read in one batch (or nearly); three
            knobs.send(cc(control, 9))  # knobs, as the inbox keeps only a knob's latest
        heard: list[Event] = []
        assert wait_for(lambda: heard.extend(inbox.drain()) or len(heard) >= 2), heard
        assert failed == [70] and [e.source for e in heard] == ["midi:cc:1:71", "midi:cc:1:72"]
        knobs.send(cc(73, 4))  # and the thread is still reading
        assert wait_for(lambda: any(e.source == "midi:cc:1:73" for e in inbox.drain()))
        assert midi._thread is not None and midi._thread.is_alive()
        (line,) = [r.getMessage() for r in caplog.records if "TypeError" in r.getMessage()]
        assert "a decoder bug" in line and "test-knobs" in line and "\n" not in line
    finally:
        midi.stop()
        knobs.close()


def test_a_listener_that_raises_on_every_message_does_not_stop_midi(
    jack_midi: None, caplog: pytest.LogCaptureFixture
) -> None:
    """on_message (MIDI clock out, the learn display) raising KeyError each time: every
    event still reaches the inbox, and the log has one line, not one per message."""
    import logging

    def broken(message: mido.Message) -> None:
        raise KeyError("learn display")

    inbox = Inbox()
    midi = MidiInput(["test-knobs"], inbox, MonotonicClock(), poll_s=0.1, on_message=broken)
    knobs = mido.open_output("test-knobs", virtual=True)
    caplog.set_level(logging.WARNING, logger="performer.control.midi")
    midi.start()
    try:
        assert wait_for(lambda: any("test-knobs" in name for name in midi.ports))
        heard: list[Event] = []
        for control in range(64, 84):  # twenty knobs: the inbox keeps each one's latest
            knobs.send(cc(control, 5))
        assert wait_for(lambda: heard.extend(inbox.drain()) or len(heard) >= 20), len(heard)
        assert [e.source for e in heard] == [f"midi:cc:1:{c}" for c in range(64, 84)]
        lines = [r.getMessage() for r in caplog.records if "KeyError" in r.getMessage()]
        assert len(lines) == 1, lines
    finally:
        midi.stop()
        knobs.close()


def test_three_controllers_plugged_in_mid_show_find_spare_clients(
    jack_midi: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A new JACK client mid-show stalls every Python thread for 0.5 to 1.5 s (with
    audio running). There was one spare: a second controller, or one with two ports,
    made a new client. Now three are made at start; a fourth port plugged in gets a
    new client with one warning saying the show may stall."""
    import logging

    from performer.control.midi_ports import SPARES

    inbox = Inbox()
    midi = MidiInput(["test-knobs"], inbox, MonotonicClock(), poll_s=0.05)
    caplog.set_level(logging.WARNING, logger="performer.control.midi_ports")
    midi.start()
    knobs: list[mido.ports.BaseOutput] = []
    try:
        assert "performer" in midi.ports and midi._system is not None
        assert midi._system.spares == SPARES == 3, "made at start, after the virtual port"
        for n in range(1, SPARES + 1):
            knobs.append(mido.open_output(f"test-knobs-{n}", virtual=True))
            assert wait_for(lambda n=n: len(midi.ports) == 1 + n), list(midi.ports)  # type: ignore[misc]
        assert midi._system.spares == 0
        assert not [r for r in caplog.records if "spare" in r.getMessage()]
        knobs.append(mido.open_output("test-knobs-4", virtual=True))
        assert wait_for(lambda: len(midi.ports) == 2 + SPARES), list(midi.ports)
        (warning,) = [r.getMessage() for r in caplog.records if "spare" in r.getMessage()]
        assert "stall" in warning and "\n" not in warning
        knobs.pop().close()  # unplugged: its client is kept, and the next port takes it
        assert wait_for(lambda: midi._system is not None and midi._system.spares == 1)
    finally:
        midi.stop()
        for port in knobs:
            port.close()
