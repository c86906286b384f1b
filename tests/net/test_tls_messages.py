"""What a TLS failure tells the user, with either engine, against real `websockets` servers with certificates
from a private CA: a certificate that changed since it was trusted, an untrusted one (its fingerprint, and the
two ways to trust it), an oldest version the server does not reach, a client certificate the server wants."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from tests.net.conftest import Net
from tests.net.pki import Authority
from wsinspector.core.events import FailureKind


def _wss(url: str) -> str:
    return f"wss://127.0.0.1:{url.rstrip('/').rsplit(':', 1)[1]}/"


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


def test_a_trusted_certificate_that_changed_says_so(net: Net, ca: Authority) -> None:
    trusted, renewed = ca.issue("selfA"), ca.issue("selfB")
    _peer, url = net.websockets_peer(ssl=renewed.server_context())
    [failure] = net.open_until("failed", _wss(url), tls={"pinned": (trusted.sha256,)}).failed
    assert failure.kind is FailureKind.TLS
    assert failure.trusted == (trusted.sha256,)
    assert (f"the certificate differs from the one you trusted (trusted {trusted.sha256[:11]}…, now "
            f"{renewed.sha256[:11]}…)") in failure.message, failure.message
    assert "--trust-cert" not in failure.message  # no offer to trust it again in one step


def test_an_untrusted_certificate_names_its_fingerprint_and_how_to_trust_it(net: Net, ca: Authority) -> None:
    server = ca.issue("server")
    _peer, url = net.websockets_peer(ssl=server.server_context())
    [failure] = net.open_until("failed", _wss(url)).failed
    assert failure.kind is FailureKind.TLS and failure.trusted == ()
    assert f"SHA-256 {server.sha256}" in failure.message, failure.message
    assert "--ca-file" in failure.message and f"--trust-cert {server.sha256}" in failure.message


def test_an_oldest_version_the_server_does_not_speak_is_named(net: Net, ca: Authority) -> None:
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context(maximum=ssl.TLSVersion.TLSv1_2))
    [failure] = net.open_until("failed", _wss(url), tls={"ca_file": str(ca.cert), "min_version": "1.3"}).failed
    assert failure.kind is FailureKind.TLS
    assert "the oldest TLS version accepted is 1.3" in failure.message, failure.message
    assert "use ws://" not in failure.message


def test_a_server_that_wants_a_client_certificate_hints_at_it(net: Net, ca: Authority, tmp_path: Path) -> None:
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context(client_ca=clients.cert))
    [failure] = net.open_until("failed", _wss(url), tls={"ca_file": str(ca.cert)}).failed
    assert "client certificate" in failure.message, failure.message
