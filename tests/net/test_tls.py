"""wss:// to a `websockets` server with a self-signed certificate: the user must read which check failed."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509  # a test dependency: a missing package must fail, not skip

from tests.net.conftest import Net
from wsinspector.core.events import ConnectionState, FailureKind


def _self_signed_server_context(tmp_path: Path) -> ssl.SSLContext:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)  # issuer == subject: self-signed
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_self_signed_certificate_fails_with_the_reason(net: Net, tmp_path: Path) -> None:
    peer, url = net.websockets_peer(ssl=_self_signed_server_context(tmp_path))
    port = url.rsplit(":", 1)[1].strip("/")
    rec = net.open_until("failed", f"wss://127.0.0.1:{port}/")

    [failure] = rec.failed
    assert failure.kind is FailureKind.TLS
    # Qt's wording for the check that failed: "The certificate is self-signed, and untrusted"
    assert any("self-signed" in e for e in failure.tls_errors), failure.tls_errors
    assert "self-signed" in failure.message
    assert f"127.0.0.1:{port}" in failure.message
    assert rec.opened == []
    assert peer.request_headers is None  # the WebSocket handshake never reached the server
    assert rec.conn.state is ConnectionState.CLOSED


def test_wss_to_a_server_that_answers_plain_http_says_to_use_ws(net: Net) -> None:
    """A plain HTTP server (nginx, a framework's dev server) answers the TLS hello with an HTTP error; OpenSSL
    reads that as a record of a version it does not know. The user reads that the server did not speak TLS."""

    async def answers_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        await reader.read()

    _peer, url = net.hostile(answers_http)
    rec = net.open_until("failed", url.replace("ws://", "wss://"))
    [failure] = rec.failed
    assert failure.kind is FailureKind.TLS, failure.message
    assert "wrong version number" in failure.message, "OpenSSL's own words are kept"
    assert ": the server did not answer in TLS (" in failure.message
    assert failure.message.endswith("): if it is a plain ws:// endpoint, connect with ws://, not wss://")


def test_wss_to_a_plain_ws_server_says_tls_did_not_complete(net: Net) -> None:
    _peer, url = net.websockets_peer()
    rec = net.open_until("failed", url.replace("ws://", "wss://"))
    [failure] = rec.failed
    if net.engine == "wire":  # it knows the TLS handshake never completed
        assert failure.kind is FailureKind.TLS
        assert failure.message.endswith(": the server closed the connection before the TLS handshake completed "
                                        "(if it serves plain ws:// on that port, use ws://)")
    else:  # QWebSocket does not tell which handshake it was in: both likely causes are named
        assert failure.kind is FailureKind.HANDSHAKE_INVALID
        assert ("(the server closed the connection during the TLS or WebSocket handshake; if it serves plain ws:// "
                "on that port, use ws://; a server that requires a client certificate closes the connection like "
                "this when none is given") in failure.message
    assert rec.opened == []
