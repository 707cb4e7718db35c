"""OSCQuery: the OSC namespace as JSON over HTTP, so Chataigne, VDMX and TouchDesigner
can discover the instrument's parameters with their ranges, units and descriptions.

Written here because the maintained library (python-oscquery) has no RANGE and no
UNIT; this serves the proposal's node attributes (FULL_PATH, CONTENTS, TYPE, ACCESS,
VALUE, RANGE, UNIT, DESCRIPTION) and HOST_INFO, read-only, from the registry. It binds
to 127.0.0.1 unless told otherwise. mDNS (``_oscjson._tcp``) is only advertised when
asked and when ``zeroconf`` is installed.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from performer.params import REGISTRY, ParamStore

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
    ):
        self.store, self.osc_address, self.mdns = store, osc_address, mdns
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = server.respond(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("OSCQuery: " + format, *args)

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._zeroconf: Any = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._http.server_address[:2]
        return str(host), int(port)

    def respond(self, raw_path: str) -> tuple[int, dict[str, Any]]:
        url = urlsplit(raw_path)
        if url.query == "HOST_INFO":
            return 200, host_info(*self.osc_address)
        node = lookup(namespace(self.store), url.path)
        if node is None:
            return 404, {"error": f"no such OSC address: {url.path}"}
        if url.query:
            attribute = url.query.upper()
            if attribute not in node:
                return 204, {}
            return 200, {attribute: node[attribute]}
        return 200, node

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="oscquery", daemon=True
        )
        self._thread.start()
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
            addresses=[socket.inet_aton(host)],
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
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._http.server_close()
