"""OSCQuery: the OSC namespace as JSON over HTTP, so Chataigne, VDMX and TouchDesigner
can discover the instrument's parameters with their ranges, units and descriptions.

Written here because the maintained library (python-oscquery) has no RANGE and no
UNIT; this serves the proposal's node attributes (FULL_PATH, CONTENTS, TYPE, ACCESS,
VALUE, RANGE, UNIT, DESCRIPTION) and HOST_INFO, read-only, from the registry. It binds
to 127.0.0.1 unless told otherwise, and hears only who the OSC allow-list allows. The
HTTP side is :class:`~control.http_listener.HttpListener` (bounded connections, time
limits, small headers); the answers are JSON cached for ``refresh`` seconds, so a
flood of requests costs the display loop almost nothing. mDNS (``_oscjson._tcp``) is
only advertised when asked and when ``zeroconf`` is installed.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from performer.control.allow import AllowList
from performer.control.http_listener import HttpListener
from performer.control.http_request import Answer, Limits
from performer.control.params import REGISTRY, ParamStore

log = logging.getLogger(__name__)

OSC_TYPES = {"float": "f", "int": "i", "str": "s"}
ACCESS_READ_WRITE = 3


def namespace(store: ParamStore) -> dict[str, Any]:
    """The whole tree: / -> /performer -> one node per parameter."""
    snap = store.snapshot()
    nodes = {}
    for p in REGISTRY.values():
        node: dict[str, Any] = {
            "FULL_PATH": p.address,
            "TYPE": OSC_TYPES[p.kind],
            "ACCESS": ACCESS_READ_WRITE,
            "VALUE": [snap[p.name]],
            "DESCRIPTION": p.doc,
        }
        if p.kind != "str":
            node["RANGE"] = [{"MIN": p.lo, "MAX": p.hi}]
        if p.unit:
            node["UNIT"] = [p.unit]
        nodes[p.name] = node
    performer = {
        "FULL_PATH": "/performer",
        "ACCESS": 0,
        "CONTENTS": nodes,
        "DESCRIPTION": "performer parameters",
    }
    return {"FULL_PATH": "/", "ACCESS": 0, "CONTENTS": {"performer": performer}}


def host_info(osc_host: str, osc_port: int) -> dict[str, Any]:
    return {
        "NAME": "performer",
        "OSC_IP": osc_host,
        "OSC_PORT": osc_port,
        "OSC_TRANSPORT": "UDP",
        "EXTENSIONS": {
            "ACCESS": True,
            "VALUE": True,
            "RANGE": True,
            "UNIT": True,
            "DESCRIPTION": True,
            "TYPE": True,
            "CONTENTS": True,
            "LISTEN": False,
        },
    }


def lookup(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    node = tree
    for part in [p for p in path.split("/") if p]:
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


class OscQueryServer:
    def __init__(
        self,
        store: ParamStore,
        osc_address: tuple[str, int],
        host: str = "127.0.0.1",
        port: int = 9010,
        mdns: bool = False,
        allow: AllowList | None = None,
        limits: Limits | None = None,
        refresh: float = 0.1,
    ):
        self.store, self.osc_address, self.mdns = store, osc_address, mdns
        self.allow = allow or AllowList.parse(None)
        self.refresh = refresh  # seconds an answer may be old: VALUEs lag at most this
        self._lock = threading.Lock()
        self._built = -float("inf")
        self._tree: dict[str, Any] = {}
        self._answers: dict[str, Answer] = {}
        self._http = HttpListener(self.answer, host, port, self.allow, limits, name="oscquery")
        self._zeroconf: Any = None

    @property
    def address(self) -> tuple[str, int]:
        return self._http.address

    @property
    def stats(self) -> Any:
        return self._http.stats

    def respond(self, raw_path: str) -> tuple[int, dict[str, Any] | None]:
        """The answer to one request target; None as the body means none at all (204)."""
        url = urlsplit(raw_path)
        if url.query == "HOST_INFO":
            return 200, host_info(*self.osc_address)
        node = lookup(self._fresh_tree(), url.path)
        if node is None:
            return 404, {"error": f"no such OSC address: {url.path[:200]}"}
        if url.query:
            attribute = url.query.upper()
            if attribute not in node:
                return 204, None
            return 200, {attribute: node[attribute]}
        return 200, node

    def answer(self, raw_path: str) -> Answer:
        """:meth:`respond` as bytes, from a small cache that lives ``refresh`` seconds."""
        self._fresh_tree()
        cached = self._answers.get(raw_path)
        if cached is not None:
            return cached
        status, body = self.respond(raw_path)
        data = None if body is None else json.dumps(body).encode()
        if len(raw_path) <= 256 and len(self._answers) < 256:  # bounded, whatever is asked
            self._answers[raw_path] = (status, data)
        return status, data

    def _fresh_tree(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            if now - self._built >= self.refresh:
                self._tree = namespace(self.store)
                self._answers = {}
                self._built = now
            return self._tree

    def start(self) -> None:
        self._http.start()
        log.info("OSCQuery on http://%s:%d/", *self.address)
        if self.mdns:
            self._advertise()

    def _advertise(self) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf
        except ImportError:
            log.warning("mDNS asked for but zeroconf is not installed (pip install zeroconf)")
            return
        host, port = self.address
        info = ServiceInfo(
            "_oscjson._tcp.local.",
            "performer._oscjson._tcp.local.",
            addresses=[ipaddress.ip_address(host).packed],
            port=port,
            properties={"txtvers": "1"},
            server="performer.local.",
        )
        self._zeroconf = Zeroconf()
        self._zeroconf.register_service(info)

    def stop(self) -> None:
        if self._zeroconf is not None:
            self._zeroconf.close()
            self._zeroconf = None
        self._http.stop()
