"""Failures before any server speaks: nothing listening, a name that does not resolve, a malformed URL."""

from __future__ import annotations

import re
import socket

import pytest

from tests.net.conftest import Net
from wsinspector.core.events import ConnectionState, FailureKind
from wsinspector.core.profiles import ConnectionProfile, Endpoint, ProfileError


def _free_port_nobody_listens_on() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused(net: Net) -> None:
    port = _free_port_nobody_listens_on()
    rec = net.open_until("failed", f"ws://127.0.0.1:{port}/")

    [failure] = rec.failed
    assert failure.kind is FailureKind.REFUSED
    assert f"127.0.0.1:{port}" in failure.message
    assert "refused" in failure.message.lower()
    assert rec.opened == []
    assert rec.conn.state is ConnectionState.CLOSED


def test_host_that_does_not_resolve(net: Net) -> None:
    # RFC 2606/6761: the .invalid top-level domain never resolves.
    rec = net.open_until("failed", "ws://nonexistent.invalid:8765/")

    [failure] = rec.failed
    assert failure.kind is FailureKind.DNS
    assert "nonexistent.invalid" in failure.message
    assert rec.conn.state is ConnectionState.CLOSED


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "Enter a URL"),
        ("http://127.0.0.1:8765/", "did you mean ws://"),
        ("https://example.com/", "did you mean wss://"),
        ("127.0.0.1:8765", "scheme"),
        ("ftp://example.com/", "Unsupported scheme 'ftp'"),
        ("ws:///path", "no host"),
        ("ws://example.com:99999/", "malformed"),
        ("ws://example.com:0/", "Port 0"),
        ("ws://exa mple.com/", "spaces"),
        ("ws://example.com/#frag", "#fragment"),
    ],
)
def test_malformed_url_is_refused_before_connecting(url: str, says: str) -> None:
    with pytest.raises(ProfileError, match=r"(?i)" + re.escape(says)):
        ConnectionProfile(name="bad", endpoint=Endpoint(url)).resolved()


def test_unknown_variable_in_url_is_named() -> None:
    with pytest.raises(ProfileError, match=r"Unknown variable: \{\{host\}\}"):
        ConnectionProfile(name="bad", endpoint=Endpoint("ws://{{host}}:8765/")).resolved()
