"""OSCQuery: the namespace served over HTTP, as the proposal's required keys say."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from control.oscquery import OscQueryServer
from performer.params import REGISTRY, ParamStore


@pytest.fixture
def query() -> Iterator[OscQueryServer]:
    store = ParamStore({"era": 1977})
    server = OscQueryServer(store, ("127.0.0.1", 9000), port=0)
    server.start()
    yield server
    server.stop()


def get(server: OscQueryServer, path: str) -> tuple[int, Any]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as reply:
            body = reply.read()
            return reply.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def check_node(node: dict[str, Any], path: str) -> None:
    """The proposal: every node has FULL_PATH; containers CONTENTS; methods TYPE, ACCESS."""
    assert node["FULL_PATH"] == path
    if "CONTENTS" in node:
        for name, child in node["CONTENTS"].items():
            check_node(child, f"{path.rstrip('/')}/{name}")
    else:
        assert isinstance(node["TYPE"], str) and node["ACCESS"] in (0, 1, 2, 3)
        assert len(node["VALUE"]) == len(node["TYPE"])


def test_namespace_is_valid_and_derived_from_the_registry(query: OscQueryServer) -> None:
    status, root = get(query, "/")
    assert status == 200
    check_node(root, "/")
    nodes = root["CONTENTS"]["performer"]["CONTENTS"]
    assert set(nodes) == set(REGISTRY)
    era = nodes["era"]
    assert era["TYPE"] == "f" and era["VALUE"] == [1977.0]
    assert era["RANGE"] == [{"MIN": 1840.0, "MAX": 2030.0}] and era["UNIT"] == ["year"]
    assert era["DESCRIPTION"] == REGISTRY["era"].doc
    assert nodes["steps"]["TYPE"] == "i" and nodes["prompt"]["TYPE"] == "s"


def test_host_info_single_nodes_and_attributes(query: OscQueryServer) -> None:
    _, info = get(query, "/?HOST_INFO")
    assert info["OSC_PORT"] == 9000 and info["OSC_TRANSPORT"] == "UDP"
    assert get(query, "/performer/era?VALUE") == (200, {"VALUE": [1977.0]})
    status, node = get(query, "/performer/era")
    assert status == 200 and node["FULL_PATH"] == "/performer/era"
    assert get(query, "/performer/nope")[0] == 404


def test_binds_to_loopback_by_default(query: OscQueryServer) -> None:
    assert query.address[0] == "127.0.0.1"
