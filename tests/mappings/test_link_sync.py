"""Ableton Link, run inside a private network namespace so nothing leaves the machine.

Skipped without linkpython-extern (an optional extra), without ``unshare`` rights,
or without ``ip``. Two Link peers take a few seconds to find each other.
"""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from tests.helpers import in_private_network, needs_private_network

SCRIPT = textwrap.dedent(
    """
    import time
    import link
    from performer.control.link import LinkSync
    from performer.mappings.transport import Transport

    other = link.Link(140.0)
    other.enabled = True
    transport = Transport(bpm=120.0)
    sync = LinkSync(transport)
    sync.start()
    start = time.monotonic()
    def now():
        return time.monotonic() - start
    while sync.peers < 1 and now() < 20:
        sync.poll(now())
        time.sleep(0.05)
    assert sync.peers == 1, "no peer found"
    state = other.captureAppSessionState()
    state.setTempo(140.0, other.clock().micros())
    other.commitAppSessionState(state)
    while abs(transport.bpm - 140.0) > 1e-3 and now() < 30:
        sync.poll(now())
        time.sleep(0.05)
    assert abs(transport.bpm - 140.0) < 1e-3, f"did not follow: {transport.bpm}"
    transport.set_bpm(100.0, now())
    sync.poll(now())
    deadline = now() + 10
    while abs(other.captureAppSessionState().tempo() - 100.0) > 1e-3 and now() < deadline:
        time.sleep(0.05)
    assert abs(other.captureAppSessionState().tempo() - 100.0) < 1e-3, "did not lead"
    sync.stop()
    print("ok", transport.changed_by)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("link") is None, reason="needs linkpython-extern")
@needs_private_network
def test_link_follows_and_leads_inside_a_private_network() -> None:
    result = in_private_network(SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok sync"


def test_link_is_opt_in_and_says_how_to_get_it() -> None:
    from performer.control.link import load_link

    if importlib.util.find_spec("link") is not None:
        pytest.skip("linkpython-extern is installed")
    with pytest.raises(ImportError, match="pip install linkpython-extern"):
        load_link()
