"""Ableton Link, run inside a private network namespace so nothing leaves the machine.

Skipped without linkpython-extern (an optional extra), without ``unshare`` rights,
or without ``ip``. Two Link peers take a few seconds to find each other.
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from tests.helpers import in_private_network, needs_private_network

needs_link = pytest.mark.skipif(
    importlib.util.find_spec("link") is None, reason="needs linkpython-extern"
)

# Link follows into the inbox as tempo events; applied as the session applies them
# (Transport.sync), the tempo here is Link's; changed here, Link's is ours.
SCRIPT = textwrap.dedent(
    """
    import time
    import link
    from performer.control.clock import MonotonicClock
    from performer.control.events import Inbox
    from performer.control.link import LinkSync
    from performer.mappings.transport import Transport

    other = link.Link(140.0)
    other.enabled = True
    transport = Transport(bpm=120.0)
    inbox, clock = Inbox(), MonotonicClock()
    sync = LinkSync(inbox, clock, lambda: transport.bpm, transport.beats_per_bar)
    sync.start()  # polls on its own thread from here on
    heard = []
    def apply():
        for event in inbox.drain(clock.now()):
            assert event.source == "clock:tempo", event
            heard.append(event.value)
            transport.sync(*event.value, event.time)
    while sync.peers < 1 and clock.now() < 20:
        apply()
        time.sleep(0.02)
    assert sync.peers == 1, "no peer found"
    state = other.captureAppSessionState()
    state.setTempo(140.0, other.clock().micros())
    other.commitAppSessionState(state)
    while abs(transport.bpm - 140.0) > 1e-3 and clock.now() < 30:
        apply()
        time.sleep(0.02)
    assert abs(transport.bpm - 140.0) < 1e-3, f"did not follow: {transport.bpm}"
    beat = transport.beat(clock.now())
    time.sleep(0.5)
    apply()
    quiet = len(heard)
    time.sleep(0.5)
    apply()
    assert len(heard) - quiet < 5, f"a steady tempo sent {len(heard) - quiet} events in 0.5 s"
    transport.set_bpm(100.0, clock.now())
    deadline = clock.now() + 10
    while abs(other.captureAppSessionState().tempo() - 100.0) > 1e-3 and clock.now() < deadline:
        apply()
        time.sleep(0.02)
    assert abs(other.captureAppSessionState().tempo() - 100.0) < 1e-3, "did not lead"
    apply()
    time.sleep(0.2)
    apply()
    assert abs(transport.bpm - 100.0) < 1e-3, f"led, then pulled back: {transport.bpm}"
    sync.stop()
    sync.stop()
    print("ok", transport.changed_by)
    """
)


@pytest.mark.slow
@needs_link
@needs_private_network
def test_link_follows_into_the_inbox_and_leads_inside_a_private_network() -> None:
    result = in_private_network(SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok sync"


def test_link_is_opt_in_and_says_how_to_get_it() -> None:
    from performer.control.link import load_link

    if importlib.util.find_spec("link") is not None:
        pytest.skip("linkpython-extern is installed")
    with pytest.raises(ImportError, match="pip install linkpython-extern"):
        load_link()
