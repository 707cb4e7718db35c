"""OSCQuery over mDNS: opt-in, and tested only inside a private network namespace."""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

from tests.helpers import in_private_network, needs_private_network

SCRIPT = textwrap.dedent(
    """
    import time
    from zeroconf import ServiceBrowser, Zeroconf
    from performer.control.oscquery import OscQueryServer
    from performer.control.params import ParamStore

    server = OscQueryServer(ParamStore(), ("127.0.0.1", 9000), port=0, mdns=True)
    server.start()
    found = []

    class Listener:
        def add_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name)
            found.append((name, info.port if info else None))
        def update_service(self, zc, kind, name): pass
        def remove_service(self, zc, kind, name): pass

    browser = Zeroconf()
    ServiceBrowser(browser, "_oscjson._tcp.local.", Listener())
    deadline = time.monotonic() + 15
    while not found and time.monotonic() < deadline:
        time.sleep(0.1)
    browser.close()
    server.stop()
    assert found, "not advertised"
    name, port = found[0]
    assert port == server.address[1], (port, server.address)
    print("found", name)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("zeroconf") is None, reason="needs zeroconf")
@needs_private_network
def test_oscquery_is_advertised_over_mdns_when_asked() -> None:
    result = in_private_network(SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "found performer._oscjson._tcp.local."


def test_nothing_is_advertised_by_default() -> None:
    from performer.control.oscquery import OscQueryServer
    from performer.control.params import ParamStore

    server = OscQueryServer(ParamStore(), ("127.0.0.1", 9000), port=0)
    server.start()
    try:
        assert server.mdns is False and server._zeroconf is None
    finally:
        server.stop()
