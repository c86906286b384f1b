"""TLS options against real `websockets` servers with certificates from a private CA: trusting a CA file or
the OpenSSL environment, a client certificate (PEM or PKCS#12), the oldest TLS version, not verifying, trusting
one certificate by its fingerprint, and reaching another address under the URL's name. Both engines."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.net.conftest import Net
from tests.net.pki import Authority, Issued
from wsinspector.core.events import FailureKind


def _wss(url: str, host: str = "127.0.0.1") -> str:
    port = url.rstrip("/").rsplit(":", 1)[1]
    return f"wss://{host}:{port}/"


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


def test_a_private_ca_is_trusted_through_the_ca_file(net: Net, ca: Authority) -> None:
    server = ca.issue("server")
    _peer, url = net.websockets_peer(ssl=server.server_context())
    failed = net.open_until("failed", _wss(url))  # not in the system's store
    [failure] = failed.failed
    assert failure.kind is FailureKind.TLS
    assert any("issuer" in e.lower() for e in failure.tls_errors), failure.tls_errors

    rec = net.open(_wss(url), tls={"ca_file": str(ca.cert)})
    [info] = rec.opened
    if net.engine == "wire":  # the Wire engine reads the session from its own socket
        assert info.tls is not None
        assert info.tls.version in ("TLS 1.2", "TLS 1.3")
        assert info.tls.cipher
        assert info.tls.verified and not info.tls.pinned
        leaf = info.tls.chain[0]
        assert leaf.subject == "server"
        assert leaf.issuer == "wsinspector test CA"
        assert set(leaf.alt_names) == {"IP:127.0.0.1", "DNS:localhost"}
        assert leaf.sha256 == server.sha256
        assert leaf.not_after.endswith("UTC")
    else:
        assert info.tls is None  # QWebSocket does not expose its session


def test_a_folder_of_ca_certificates_counts_too(net: Net, ca: Authority, tmp_path: Path) -> None:
    folder = tmp_path / "cas"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a certificate")
    (folder / "ca.crt").write_bytes(ca.cert.read_bytes())
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context())
    assert net.open(_wss(url), tls={"ca_file": str(folder)}).opened


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_openssl_environment_is_honoured(net: Net, ca: Authority, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path, variable: str) -> None:
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context())
    if variable == "SSL_CERT_FILE":
        monkeypatch.setenv(variable, str(ca.cert))
    else:
        folder = tmp_path / "certs"
        folder.mkdir()
        (folder / "ca.pem").write_bytes(ca.cert.read_bytes())
        monkeypatch.setenv(variable, str(folder))
    assert net.open(_wss(url)).opened


def test_an_expired_certificate_and_another_hosts_certificate_fail_with_the_reason(net: Net, ca: Authority) -> None:
    for server, words in ((ca.issue("expired", expired=True), "expired"),
                          (ca.issue("elsewhere", hosts=("example.org",)), "host name")):
        _peer, url = net.websockets_peer(ssl=server.server_context())
        rec = net.open_until("failed", _wss(url), tls={"ca_file": str(ca.cert)})
        [failure] = rec.failed
        assert failure.kind is FailureKind.TLS
        assert any(words in e.lower() for e in failure.tls_errors), failure.tls_errors
        assert failure.peer_certificate is not None
        assert failure.peer_certificate.sha256 == server.sha256


def test_trusting_one_certificate_by_its_fingerprint(net: Net, ca: Authority) -> None:
    """"Trust this certificate": the failure names the certificate; pinned, it connects; another fails."""
    server = ca.issue("server")
    _peer, url = net.websockets_peer(ssl=server.server_context())
    [failure] = net.open_until("failed", _wss(url)).failed
    assert failure.peer_certificate is not None
    pin = failure.peer_certificate.sha256
    assert pin == server.sha256

    rec = net.open(_wss(url), tls={"pinned": (pin.lower().replace(":", ""),)})  # pasted any way
    if net.engine == "wire":
        [info] = rec.opened
        assert info.tls is not None and info.tls.pinned

    other = ca.issue("renewed")  # the server's certificate changed: trusted no more
    _peer2, url2 = net.websockets_peer(ssl=other.server_context())
    [again] = net.open_until("failed", _wss(url2), tls={"pinned": (pin,)}).failed
    assert again.kind is FailureKind.TLS
    assert again.peer_certificate is not None and again.peer_certificate.sha256 == other.sha256


def test_not_verifying_accepts_any_certificate_and_says_so(net: Net, ca: Authority) -> None:
    _peer, url = net.websockets_peer(ssl=ca.issue("expired", expired=True).server_context())
    rec = net.open(_wss(url), tls={"verify": False})
    [info] = rec.opened
    if net.engine == "wire":
        assert info.tls is not None and not info.tls.verified


def _server_wanting_a_client_certificate(net: Net, ca: Authority, tmp_path: Path,
                                         name: str) -> tuple[Issued, str, list[Any]]:
    """A wss:// echo server that asks for a client certificate of a private client CA; the client certificate
    ``name`` of that CA, the server's URL, and the certificates it was shown."""
    (tmp_path / "clients").mkdir()
    clients = Authority(tmp_path / "clients", "client CA")
    client = clients.issue(name, hosts=(), client=True)
    seen: list[Any] = []

    async def who(ws: Any) -> None:
        seen.append(ws.transport.get_extra_info("peercert"))
        async for message in ws:
            await ws.send(message)

    _peer, url = net.websockets_peer(who, ssl=ca.issue("server").server_context(client_ca=clients.cert))
    return client, url, seen


def test_a_client_certificate_as_pem_or_pkcs12(net: Net, ca: Authority, tmp_path: Path) -> None:
    client, url, seen = _server_wanting_a_client_certificate(net, ca, tmp_path, "alice")
    target = _wss(url)
    refused = net.open_until("failed", target, tls={"ca_file": str(ca.cert)})
    assert refused.opened == []  # the server wants a certificate we did not give

    combined = tmp_path / "alice-with-key.pem"
    combined.write_bytes(client.cert.read_bytes() + client.key.read_bytes())
    for settings in ({"client_cert": str(client.cert), "client_key": str(client.key)},
                     {"client_cert": str(combined)},
                     {"client_cert": str(client.pkcs12(tmp_path / "alice.p12"))}):
        rec = net.open(target, tls={"ca_file": str(ca.cert), **settings})
        assert rec.opened, settings
        net.close(rec)
    assert [dict(x[0] for x in cert["subject"])["commonName"] for cert in seen] == ["alice"] * 3


def test_a_client_key_or_pkcs12_file_protected_by_a_passphrase(net: Net, ca: Authority, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    client, url, seen = _server_wanting_a_client_certificate(net, ca, tmp_path, "carol")
    locked = tmp_path / "carol-locked.key"
    locked.write_bytes(client.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption("pass phrase ✓".encode())))
    for settings in ({"client_cert": str(client.cert), "client_key": str(locked)},
                     {"client_cert": str(client.pkcs12(tmp_path / "carol.p12", "pass phrase ✓".encode()))}):
        rec = net.open(_wss(url), tls={"ca_file": str(ca.cert), "passphrase": "pass phrase ✓", **settings})
        assert rec.opened, settings
        net.close(rec)
    assert [dict(x[0] for x in cert["subject"])["commonName"] for cert in seen] == ["carol"] * 2


def test_the_oldest_tls_version_accepted(net: Net, ca: Authority) -> None:
    server = ca.issue("server").server_context(maximum=ssl.TLSVersion.TLSv1_2)
    _peer, url = net.websockets_peer(ssl=server)
    assert net.open(_wss(url), tls={"ca_file": str(ca.cert), "min_version": "1.2"}).opened
    [failure] = net.open_until("failed", _wss(url), tls={"ca_file": str(ca.cert), "min_version": "1.3"}).failed
    assert failure.kind in (FailureKind.TLS, FailureKind.HANDSHAKE_INVALID)


@pytest.mark.parametrize("setting, words", [
    ({"ca_file": "{missing}"}, "The CA file {missing} does not exist"),
    ({"ca_file": "{text}"}, "The CA file {text} holds no PEM certificate"),
    ({"client_cert": "{text}"}, "Cannot read the PKCS#12 file {text}"),
    ({"client_cert": "{cert}"}, "No private key found in {cert}; give the key file too"),
    ({"client_cert": "{cert}", "client_key": "{text}"}, "No private key found in {text}"),
    ({"client_cert": "{cert}", "client_key": "{locked}"}, "is protected by a passphrase: enter it"),
    ({"client_cert": "{cert}", "client_key": "{locked}", "passphrase": "guess"},
     "The passphrase does not open the client key in {locked}: it is wrong"),
    ({"client_cert": "{locked_p12}"}, "Cannot read the PKCS#12 file {locked_p12}: it is damaged, not PKCS#12, or "
                                      "protected by a passphrase (enter it"),
    ({"client_cert": "{locked_p12}", "passphrase": "guess"},
     "Cannot read the PKCS#12 file {locked_p12} with the passphrase given: the passphrase is wrong"),
])
def test_unusable_tls_files_are_named(net: Net, ca: Authority, tmp_path: Path, setting: dict[str, str],
                                      words: str) -> None:
    from cryptography.hazmat.primitives import serialization

    client = ca.issue("bob", hosts=(), client=True)
    locked = tmp_path / "locked.key"
    locked.write_bytes(client.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    places = {"missing": str(tmp_path / "nowhere.pem"), "text": str(text), "cert": str(client.cert),
              "locked": str(locked), "locked_p12": str(client.pkcs12(tmp_path / "locked.p12", b"secret"))}
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context())
    rec = net.open_until("failed", _wss(url), tls={k: v.format(**places) for k, v in setting.items()})
    [failure] = rec.failed
    assert failure.kind is FailureKind.INVALID_TARGET
    assert words.format(**places) in failure.message


def test_connect_to_another_address_under_the_urls_name(net: Net, ca: Authority) -> None:
    """Like curl's --resolve: the socket goes to 127.0.0.1, while SNI, Host and the certificate check use the
    URL's host name, which resolves nowhere."""
    peer, url = net.websockets_peer(ssl=ca.issue("backend", hosts=("api.wsinspector.invalid",)).server_context())
    port = url.rstrip("/").rsplit(":", 1)[1]
    target = f"wss://api.wsinspector.invalid:{port}/feed"
    settings: dict[str, Any] = {"tls": {"ca_file": str(ca.cert)}, "endpoint": {"connect_to": f"127.0.0.1:{port}"}}
    if net.engine == "qt":
        [failure] = net.open_until("failed", target, **settings).failed
        assert "needs the Wire engine" in failure.message
        return
    rec = net.open(target, **settings)
    assert peer.request_headers["Host"] == f"api.wsinspector.invalid:{port}"
    assert rec.opened[0].peer.startswith("127.0.0.1:")


def test_a_close_over_tls_ends_when_the_servers_tls_ends_not_when_we_give_up_on_it(
        net: Net, ca: Authority, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server ends TLS (close_notify) and TCP once the close handshake is done. Qt then reads nothing more
    and never says the socket disconnected: the connection must end on the close_notify itself, not when the
    grace we give a server to drop TCP after the handshake runs out (here far longer than the test waits)."""
    from wsinspector.core.wire import engine

    monkeypatch.setattr(engine, "CLOSE_GRACE_S", 600.0)

    async def closes_first(ws: Any) -> None:
        await ws.close(1001, "going away")

    context = ca.issue("server").server_context()
    patient = {"ca_file": str(ca.cert)}
    _peer, url = net.websockets_peer(ssl=context)
    rec = net.open(_wss(url), tls=patient, protocol={"close_timeout_s": 600})
    info = net.close(rec, 1000, "done")  # we close: the server answers, then ends TLS and TCP
    assert (info.code, info.clean, info.failure) == (1000, True, None)

    _peer, url = net.websockets_peer(closes_first, ssl=ca.issue("server").server_context())
    rec = net.open_until("closed", _wss(url), tls=patient, protocol={"close_timeout_s": 600})
    [info] = rec.closed  # the server closed: we answered, it ended TLS and TCP
    assert (info.code, info.reason, info.by_peer, info.clean) == (1001, "going away", True, True)


def test_a_certificate_file_of_the_environment_changed_while_the_app_runs_is_read_again(
        net: Net, ca: Authority, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment's certificates are read once, not for every connection, and again once the file they
    come from changed."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.cert.read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    _peer, url = net.websockets_peer(ssl=ca.issue("server").server_context())
    assert net.open(_wss(url)).opened
    (tmp_path / "other").mkdir()
    other = Authority(tmp_path / "other", "another CA")
    _peer, other_url = net.websockets_peer(ssl=other.issue("server").server_context())
    [failure] = net.open_until("failed", _wss(other_url)).failed
    assert failure.kind is FailureKind.TLS
    bundle.write_bytes(ca.cert.read_bytes() + other.cert.read_bytes())  # the user adds their company's CA
    assert net.open(_wss(other_url)).opened
    assert net.open(_wss(url)).opened
