"""Proxies, both engines, through a real proxy (pproxy: HTTP CONNECT and SOCKS5 on one port, with or without
a user and password): a connection's own proxy, the environment's (HTTPS_PROXY, NO_PROXY, as curl reads
them), none, and errors that name the proxy and what it answered."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import RunningProxy, free_port
from tests.net.conftest import Net
from wsinspector.core.events import FailureKind


@pytest.mark.parametrize("mode", ["http", "socks5"])
def test_a_connections_own_proxy_carries_the_connection(net: Net, proxy_server: Callable[..., RunningProxy],
                                                         mode: str) -> None:
    proxy = proxy_server()
    peer, url = net.websockets_peer()
    rec = net.open(url, proxy={"mode": mode, "host": "127.0.0.1", "port": proxy.port})
    rec.conn.send(b"through the proxy", True)
    net.qtbot.waitUntil(lambda: any(f.payload == b"through the proxy" for f in rec.incoming()), timeout=5000)
    port = url.rstrip("/").rsplit(":", 1)[1]
    net.qtbot.waitUntil(lambda: proxy.saw(f"-> 127.0.0.1:{port}"), timeout=5000)
    assert peer.received == ["through the proxy"]


def test_the_environment_proxy_is_used_as_curl_would(net: Net, proxy_server: Callable[..., RunningProxy],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """wss:// goes through HTTPS_PROXY; a name the proxy cannot resolve fails there, and the failure says
    which proxy, and where it was set."""
    proxy = proxy_server()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    rec = net.open_until("failed", "wss://echo.wsinspector.invalid:9443/")
    net.qtbot.waitUntil(lambda: proxy.saw("-> echo.wsinspector.invalid:9443"), timeout=5000)
    [failure] = rec.failed
    assert f"http://127.0.0.1:{proxy.port} (from HTTPS_PROXY)" in failure.message, failure.message


def test_no_proxy_and_loopback_go_direct(net: Net, proxy_server: Callable[..., RunningProxy],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = proxy_server()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    _peer, url = net.websockets_peer()
    assert net.open(url).opened  # 127.0.0.1: never through the system's proxy
    assert not proxy.saw("->")


def test_a_proxy_that_wants_credentials_says_so(net: Net, proxy_server: Callable[..., RunningProxy],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = proxy_server(auth="ann:s3cret")
    _peer, url = net.websockets_peer()
    settings = {"mode": "http", "host": "127.0.0.1", "port": proxy.port, "username": "ann"}
    [failure] = net.open_until("failed", url, proxy=settings).failed
    assert failure.kind is FailureKind.PROXY
    assert failure.message.startswith(f"Proxy error: http://127.0.0.1:{proxy.port} (from the connection's "
                                      "settings): ")
    assert "s3cret" not in failure.message

    # with the password in the environment's proxy URL (how a CI job passes it), it goes through
    monkeypatch.setenv("all_proxy", f"http://ann:s3cret@127.0.0.1:{proxy.port}")
    target = url.replace("127.0.0.1", "wsinspector-test.invalid")
    rec = net.open_until("failed", target)
    net.qtbot.waitUntil(lambda: proxy.saw("-> wsinspector-test.invalid"), timeout=5000)
    assert rec.opened == []


@pytest.mark.parametrize("mode", ["http", "socks5"])
def test_a_proxy_password_from_the_connections_settings(net: Net, proxy_server: Callable[..., RunningProxy],
                                                        mode: str) -> None:
    """A refused password is named as such, never shown; the right one carries the connection. (The wrong one
    comes first: pproxy lets an address it has once authenticated through without asking again.)"""
    proxy = proxy_server(auth="ann:s3cret-pw")
    peer, url = net.websockets_peer()
    settings = {"mode": mode, "host": "127.0.0.1", "port": proxy.port, "username": "ann", "password": "wrong-pw"}
    [failure] = net.open_until("failed", url, proxy=settings).failed
    assert failure.kind is FailureKind.PROXY
    assert failure.message.startswith(f"Proxy error: {mode}://127.0.0.1:{proxy.port} (from the connection's "
                                      "settings): "), failure.message
    assert "refuses the user name 'ann'" in failure.message or "refused the user name 'ann'" in failure.message
    assert "wrong-pw" not in failure.message

    rec = net.open(url, proxy={**settings, "password": "s3cret-pw"})
    rec.conn.send(b"authenticated", True)
    net.qtbot.waitUntil(lambda: any(f.payload == b"authenticated" for f in rec.incoming()), timeout=5000)
    assert peer.received == ["authenticated"]


def test_a_proxy_that_is_not_there_is_named(net: Net) -> None:
    port = free_port()
    [failure] = net.open_until("failed", "ws://127.0.0.1:9/",
                               proxy={"mode": "socks5", "host": "127.0.0.1", "port": port}).failed
    assert failure.kind is FailureKind.PROXY
    assert f"socks5://127.0.0.1:{port} (from the connection's settings)" in failure.message


def test_a_socks5_proxy_that_wants_credentials_and_got_none_says_so(
        net: Net, proxy_server: Callable[..., RunningProxy]) -> None:
    proxy = proxy_server(auth="ann:s3cret")
    _peer, url = net.websockets_peer()
    [failure] = net.open_until("failed", url, proxy={"mode": "socks5", "host": "127.0.0.1",
                                                     "port": proxy.port}).failed
    assert failure.kind is FailureKind.PROXY
    assert failure.message.startswith(f"Proxy error: socks5://127.0.0.1:{proxy.port} (from the connection's "
                                      "settings): "), failure.message
    assert failure.message.endswith("a SOCKS5 proxy closes the connection like this when it wants a user name and "
                                    "password; give them in the connection's proxy settings"), failure.message
