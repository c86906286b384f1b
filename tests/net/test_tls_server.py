"""A TLS server says why a client's TLS never came up (net/tls_server.py), against real clients over loopback:
a plain ws:// request is answered 400 in plain HTTP saying to use wss://, a client that does not trust the
certificate, one that sends something else, one that sends nothing: each is named with what happened, and the
server goes on serving TLS clients."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.net.served import Served
from wsinspector.core.self_signed import self_signed_localhost
from wsinspector.core.wire.server import ServerSettings
from wsinspector.net.wire_server import ServerTls

UPGRADE = (b"GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[ServerTls, ssl.SSLContext]:
    """The server's TLS, and a client context that trusts it."""
    cert, key = self_signed_localhost()
    (tmp_path / "cert.pem").write_bytes(cert)
    return ServerTls(cert, key), ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))


def _start(served: Served, tls: ServerTls, settings: ServerSettings | None = None) -> tuple[str, int,
                                                                                        list[tuple[str, str]]]:
    """A TLS server listening: its URL, its port, and the refusals it names as they come."""
    url = served.start(settings, tls=tls)
    got: list[tuple[str, str]] = []
    assert served.server is not None
    served.server.tls_refused.connect(lambda peer, detail: got.append((peer, detail)))
    return url, served.server.port, got


async def _exchange(port: int, data: bytes) -> tuple[bytes, str]:
    """Send ``data`` in the clear; what came back until the server ended the connection, and our address."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    host, ours = writer.get_extra_info("sockname")[:2]
    writer.write(data)
    answer = await reader.read()
    writer.close()
    return answer, f"{host}:{ours}"


def _still_serves_tls(url: str, context: ssl.SSLContext, run: Callable[..., Any]) -> None:
    async def talk() -> str | bytes:
        async with connect(url, ssl=context, server_hostname="localhost") as ws:
            await ws.send("over tls")
            return await ws.recv()

    assert run(talk()) == "over tls"


def test_a_plain_ws_request_to_a_wss_server_is_told_to_use_wss(
        served: Served, run: Callable[..., Any], qtbot: Any, certificate: tuple[ServerTls, ssl.SSLContext]) -> None:
    tls, context = certificate
    url, port, refusals = _start(served, tls)
    answer, peer = run(_exchange(port, UPGRADE))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request")
    assert body == b"This port speaks TLS: connect with wss:// (https://), not ws:// (http://).\n"
    qtbot.waitUntil(lambda: bool(refusals), timeout=5000)
    assert refusals == [(peer, "sent a plain HTTP request (a ws:// URL?) to this wss:// server: answered 400, "
                               "use wss://")]
    assert served.clients == [], "no WebSocket client came of it"
    _still_serves_tls(url, context, run)


def test_a_client_that_does_not_trust_the_certificate_is_named_with_its_alert(
        served: Served, run: Callable[..., Any], qtbot: Any, certificate: tuple[ServerTls, ssl.SSLContext]) -> None:
    """A client that sends its alert (a blocking Python client) and one that closes without one (asyncio's)."""
    tls, context = certificate
    url, port, refusals = _start(served, tls)
    failed: list[Exception] = []

    def alerting() -> None:
        try:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                ssl.create_default_context().wrap_socket(sock, server_hostname="localhost")
        except ssl.SSLCertVerificationError as exc:
            failed.append(exc)

    thread = threading.Thread(target=alerting)
    thread.start()
    qtbot.waitUntil(lambda: len(refusals) == 1, timeout=5000)
    thread.join()
    assert len(failed) == 1
    assert refusals[0][1] == "ended the TLS handshake: unknown CA (does it trust this server's certificate?)"

    async def distrustful() -> None:
        async with connect(url, ssl=ssl.create_default_context(), server_hostname="localhost"):
            pass

    with pytest.raises(ssl.SSLCertVerificationError):
        run(distrustful())
    qtbot.waitUntil(lambda: len(refusals) == 2, timeout=5000)
    assert refusals[1][1] == ("closed the connection during the TLS handshake (does it trust this server's "
                              "certificate?)")
    assert all(peer.startswith("127.0.0.1:") for peer, _ in refusals)
    _still_serves_tls(url, context, run)
    assert len(refusals) == 2, "a client that came through TLS is not named"


@pytest.mark.parametrize(("sent", "detail"), [
    (b"\x00\x01\x02\x03 hello", "sent 00 01 02 03 20 68 65 6c where a TLS handshake begins: not TLS, let go"),
    (b"", "sent nothing within 1 s: let go"),
], ids=["something-else", "nothing"])
def test_a_client_that_speaks_something_else_or_nothing_is_let_go_and_named(
        served: Served, run: Callable[..., Any], qtbot: Any, certificate: tuple[ServerTls, ssl.SSLContext],
        sent: bytes, detail: str) -> None:
    tls, context = certificate
    url, port, refusals = _start(served, tls, ServerSettings(handshake_timeout_s=1.0))
    answer, peer = run(_exchange(port, sent))
    assert answer == b""
    qtbot.waitUntil(lambda: bool(refusals), timeout=5000)
    assert refusals == [(peer, detail)]
    _still_serves_tls(url, context, run)
    assert len(refusals) == 1


def test_a_client_that_ends_its_tls_on_an_open_connection_is_gone_at_once(
        served: Served, qtbot: Any, certificate: tuple[ServerTls, ssl.SSLContext]) -> None:
    """The client sends TLS's close_notify without a close frame and keeps TCP open (a blocking Python client
    waiting for the server's end). Qt then reads nothing more from it and never says it disconnected: the
    server must see the client gone on the close_notify itself, not keep it open for good."""
    tls, context = certificate
    _url, port, _refusals = _start(served, tls)
    ended: list[str] = []

    def ending() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        with context.wrap_socket(sock, server_hostname="localhost") as wrapped:
            wrapped.sendall(UPGRADE)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += wrapped.recv(4096)
            ended.append(answer.split(b"\r\n", 1)[0].decode())
            try:
                wrapped.unwrap()  # close_notify, then wait for the server's end
            except OSError as exc:  # the server dropped TCP without a close_notify of its own
                ended.append(type(exc).__name__)
            else:
                ended.append("close_notify")

    thread = threading.Thread(target=ending)
    thread.start()
    qtbot.waitUntil(lambda: len(served.clients) == 1 and served.clients[0].ended, timeout=5000)
    thread.join()
    [seen] = served.clients
    assert ended[0] == "HTTP/1.1 101 Switching Protocols" and len(ended) == 2
    [info] = seen.closed
    assert (info.code, info.clean, info.peer) == (1006, False, "client")
    assert info.failure is not None and info.failure.peer == "client"
