"""The example client patches in patches/clients/, checked against the real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from performer.control.clock import MonotonicClock
from performer.control.events import Inbox
from performer.control.osc import COMMANDS, OscRouter
from performer.control.osc_server import OscServer
from performer.control.params import REGISTRY, ParamStore

CLIENTS = Path(__file__).resolve().parents[2] / "patches" / "clients"
KNOWN = {f"/performer/{name}" for name in [*REGISTRY, *COMMANDS]}


@pytest.mark.skipif(shutil.which("pd") is None, reason="needs Pure Data (Debian puredata-core)")
def test_the_pure_data_patch_plays_the_instrument(tmp_path: Path) -> None:
    router = OscRouter(Inbox(), MonotonicClock(), ParamStore())
    with OscServer(router, port=0) as server:
        patch = tmp_path / "performer.pd"
        text = (CLIENTS / "performer.pd").read_text()
        patch.write_text(
            text.replace("connect 127.0.0.1 9000", f"connect 127.0.0.1 {server.address[1]}")
        )
        pd = subprocess.Popen(
            ["pd", "-nogui", "-noaudio", "-nomidi", "-open", str(patch)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 15
            while server.received == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            pd.kill()
            pd.wait()
    events = router.inbox.drain()
    assert [(e.source, e.value) for e in events] == [("param:era", 1925.0)]


def test_the_max_patch_sends_known_addresses_to_the_default_port() -> None:
    patcher = json.loads((CLIENTS / "performer.maxpat").read_text())["patcher"]
    texts = [b["box"].get("text", "") for b in patcher["boxes"]]
    assert "udpsend 127.0.0.1 9000" in texts
    addresses = {m for t in texts for m in re.findall(r"/performer/[a-z_/]+", t)}
    assert addresses and addresses <= KNOWN, addresses - KNOWN
    ids = {b["box"]["id"] for b in patcher["boxes"]}
    for line in patcher["lines"]:
        assert {line["patchline"]["source"][0], line["patchline"]["destination"][0]} <= ids


@pytest.mark.parametrize("doc", ["touchosc.md", "touchdesigner.md"])
def test_client_notes_only_name_real_addresses(doc: str) -> None:
    found = set(re.findall(r"/performer/[a-z_/]+[a-z]", (CLIENTS / doc).read_text()))
    assert found and found <= KNOWN, found - KNOWN
