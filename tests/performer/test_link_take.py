"""A Link-synced take: Link's tempo reaches the take's log as tempo events, and the
take replays exactly. Played for real with linkpython-extern, inside a private network
namespace (Link multicasts; nothing leaves it), against a second Link peer at 140 BPM.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import in_private_network, needs_private_network

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    from pathlib import Path
    import link
    from performer.cli import main
    from performer.generators.embedded import EmbeddedGenerator
    from performer.replay import replay

    takes = Path(sys.argv[1])
    other = link.Link(120.0)  # another app on the network; once met, it goes to 140
    other.enabled = True

    def lead():
        while other.numPeers() < 1:
            time.sleep(0.02)
        state = other.captureAppSessionState()
        state.setTempo(140.0, other.clock().micros())
        other.commitAppSessionState(state)

    threading.Thread(target=lead, daemon=True).start()
    played = main([
        "play", "--headless", "--record", "--seconds", "6", "--link", "--no-osc",
        "--no-midi-virtual", "--takes", str(takes), "--width", "64", "--height", "64",
    ])
    assert played == 0, played
    (take,) = takes.iterdir()
    result = replay(take, EmbeddedGenerator(), takes.parent / "again.mp4", {})
    print(json.dumps({"take": str(take), "compared": result.compared,
                      "identical": result.identical}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("link") is None, reason="needs linkpython-extern")
@needs_private_network
def test_link_tempo_lands_in_the_take_and_the_take_replays_exactly(tmp_path: Path) -> None:
    script = SCRIPT.replace("sys.argv[1]", repr(str(tmp_path / "takes")))
    done = in_private_network(script, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    lines = Path(result["take"], "control.jsonl").read_text().splitlines()
    tempos = [r for r in map(json.loads, lines) if r.get("source") == "clock:tempo"]
    assert tempos, "Link's tempo never reached the take's log"
    assert any(abs(r["value"][1] - 140.0) < 1e-3 for r in tempos), [r["value"] for r in tempos]
    frames = [r for r in map(json.loads, lines) if r.get("type") == "frame"]
    assert any(abs(r.get("set", {}).get("bpm", 0) - 140.0) < 1e-3 for r in frames), "followed"
    assert result["compared"] > 10 and result["identical"] == result["compared"], result
