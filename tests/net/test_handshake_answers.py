"""What the user reads when the server's answer to the upgrade is not a 101 the client can accept, with
either engine: the server's status, what it said (headers that tell why, the start of its body), the engine's
own reason, and whether it was the server that hung up or the client that stopped reading. Never "nothing
is listening": something was."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest

from tests.net.conftest import WAIT_MS, Net
from tests.peers import GUID, Behaviour, read_handshake
from wsinspector.core.events import FailureKind


def answers(raw: bytes | None = None, *, build: object = None, then_wait: bool = False) -> Behaviour:
    """Read the request, write ``raw`` (or ``build(request headers)``), then hang up (or wait for the client)."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = await read_handshake(reader)
        if headers is None:
            return
        data = build(headers) if callable(build) else raw
        assert isinstance(data, bytes)
        writer.write(data)
        await writer.drain()
        if then_wait:
            await reader.read()

    return behaviour


def _accept(headers: dict[str, str]) -> str:
    key = headers.get("sec-websocket-key", "").encode()
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def upgrade(extra: str = "", accept: str | None = None) -> object:
    def build(headers: dict[str, str]) -> bytes:
        value = _accept(headers) if accept is None else accept
        line = f"Sec-WebSocket-Accept: {value}\r\n" if value else ""
        return (f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{line}{extra}"
                "\r\n").encode()

    return build


def _no_refusal(message: str) -> None:
    assert "nothing is listening" not in message
    assert "refused by" not in message.lower()


@pytest.mark.parametrize(
    ("status", "reason", "headers", "says"),
    [
        (401, "Unauthorized", 'WWW-Authenticate: Basic realm="feeds"\r\n', 'Basic realm="feeds"'),
        (401, "Unauthorized", "WWW-Authenticate: Bearer\r\n", "Bearer"),
        (400, "Bad Request", "Sec-WebSocket-Version: 8\r\n", "8"),
        (302, "Found", "Location: wss://elsewhere.example/feed\r\n", "wss://elsewhere.example/feed"),
        (404, "Not Found", "", ""),
        (426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\n", ""),
        (503, "Service Unavailable", "Retry-After: 120\r\n", "120"),
    ],
)
def test_a_rejected_upgrade_says_the_status_and_what_the_server_said(
    net: Net, status: int, reason: str, headers: str, says: str
) -> None:
    body = f"no entry here ({status})"
    raw = (f"HTTP/1.1 {status} {reason}\r\n{headers}Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
           f"Connection: close\r\n\r\n{body}").encode()
    _peer, url = net.hostile(answers(raw))
    rec = net.open_until("failed", url)

    [failure] = rec.failed
    _no_refusal(failure.message)
    assert failure.kind is FailureKind.HANDSHAKE_REJECTED, failure.message
    assert failure.http_status == status
    assert f"HTTP {status} {reason}" in failure.message  # the reason phrase as the server put it
    if not net.sees_every_frame:
        assert "QWebSocket" in failure.detail, "its own reason is kept"
    assert body in failure.message, "the start of the body"
    assert says in failure.message, failure.message
    assert ("Content-Type", "text/plain") in (failure.response_headers or ())


@pytest.mark.parametrize(
    ("raw", "status", "reason", "body"),
    [
        pytest.param(b"HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.11\r\nContent-Type: text/html\r\n"
                     b"\r\n<p>Nothing matches the given URI</p>", 404, "File not found",
                     "<p>Nothing matches the given URI</p>", id="http-1.0"),
        pytest.param(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"7\r\nno room\r\n9\r\n for you.\r\n0\r\n\r\n", 403, "Forbidden", "no room for you.",
                     id="chunked-body"),
        pytest.param(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 100\r\n\r\nlog in",
                     401, "Unauthorized", "log in", id="cut-short-body"),
    ],
)
def test_a_refusal_the_library_cannot_read_whole_still_says_its_status_and_body(
    net: Net, raw: bytes, status: int, reason: str, body: str
) -> None:
    """python -m http.server answers HTTP/1.0; Express, Spring and others send a refusal's body chunked; a
    server may hang up inside the body. Each is still the server's refusal, said with its status and body,
    never an answer that could not be read."""
    _peer, url = net.hostile(answers(raw))
    rec = net.open_until("failed", url)

    [failure] = rec.failed
    _no_refusal(failure.message)
    assert failure.kind is FailureKind.HANDSHAKE_REJECTED, failure.message
    assert (failure.http_status, failure.http_reason) == (status, reason)
    assert f"HTTP {status} {reason}" in failure.message
    assert f'body: "{body}"' in failure.message, failure.message
    assert "\\r\\n" not in failure.message, "no framing of the answer quoted"


def test_a_long_body_is_cut_in_the_message(net: Net) -> None:
    body = "x" * 5000
    raw = (f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()
    _peer, url = net.hostile(answers(raw))
    rec = net.open_until("failed", url)

    [failure] = rec.failed
    assert failure.http_status == 500
    assert "x" * 100 in failure.message
    assert "x" * 1000 not in failure.message
    assert len(failure.message) < 1000


@pytest.mark.parametrize(
    ("build", "qt_says", "wire_says"),
    [
        pytest.param(upgrade(accept="bm90IHRoZSByaWdodCBrZXk="), "Accept", "Sec-WebSocket-Accept", id="wrong-accept"),
        pytest.param(upgrade(accept=""), "Accept", "Sec-WebSocket-Accept", id="missing-accept"),
        pytest.param(upgrade("Sec-WebSocket-Protocol: chat\r\n"), "chat", "chat", id="unoffered-subprotocol"),
        pytest.param(upgrade("Sec-WebSocket-Extensions: x-custom\r\n"), "x-custom", "x-custom",
                     id="unoffered-extension"),
        pytest.param(upgrade("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"),
                     "permessage-deflate", "permessage-deflate", id="unoffered-deflate"),
    ],
)
def test_an_upgrade_the_client_must_refuse_fails_with_the_reason(
    net: Net, build: object, qt_says: str, wire_says: str
) -> None:
    _peer, url = net.hostile(answers(build=build, then_wait=True))
    rec = net.open_until("failed", url, compression={"deflate": False})

    assert rec.opened == []
    [failure] = rec.failed
    _no_refusal(failure.message)
    assert failure.kind is FailureKind.HANDSHAKE_INVALID, failure.message
    assert (wire_says if net.sees_every_frame else qt_says) in failure.message


_FILLER = b"".join(b"X-Filler-%05d: %s\r\n" % (i, b"f" * 80) for i in range(20000))


@pytest.mark.parametrize(
    ("raw", "wire_says"),
    [
        pytest.param(b"SSH-2.0-OpenSSH_9.6 garbage\r\nmore\r\n\r\n", "SSH-2.0-OpenSSH_9.6", id="garbage"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64 + b"\r\n\r\n", "\\x16\\x03",
                     id="binary-garbage"),
        pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", "SSH-2.0-OpenSSH_9.6", id="a-line-of-garbage-then-silence"),
        pytest.param(b"\x16\x03\x01\x00\xa5", "\\x16\\x03", id="no-line-at-all-then-silence"),
        pytest.param(b"HTTP/1.1 101 Switching Protocols\r\n" + _FILLER + b"\r\n", "128", id="megabytes-of-headers"),
        pytest.param(b"HTTP/1.1 101 Switching Protocols\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n", "8192",
                     id="long-header-line"),
        pytest.param(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3000000\r\n\r\n" + b"z" * 3_000_000, "1.0 MiB",
                     id="large-body"),
    ],
)
def test_an_answer_the_client_stops_reading_says_so(net: Net, raw: bytes, wire_says: str) -> None:
    """The server sends something the client will not read to the end and keeps the connection open: the
    client gave up, the server did not close anything."""
    _peer, url = net.hostile(answers(raw, then_wait=True))
    rec = net.open_until("failed", url, handshake={"timeout_s": 30.0})  # it must not take a timeout to tell

    [failure] = rec.failed
    _no_refusal(failure.message)
    assert failure.kind is not FailureKind.HANDSHAKE_TIMEOUT, failure.message
    assert "server closed" not in failure.message, failure.message
    assert failure.kind in (FailureKind.HANDSHAKE_INVALID, FailureKind.HANDSHAKE_REJECTED), failure.message
    if net.sees_every_frame:
        assert wire_says in failure.message, failure.message
        assert "stopped reading" in failure.message, failure.message
    elif failure.kind is FailureKind.HANDSHAKE_INVALID:
        assert "stopped reading" in failure.message or "QWebSocket" in failure.message  # it reads a long line to
        # its end, then says what is wrong


def test_a_server_that_hangs_up_mid_answer_is_said_to_have_closed(net: Net) -> None:
    _peer, url = net.hostile(answers(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"))
    rec = net.open_until("failed", url)

    [failure] = rec.failed
    _no_refusal(failure.message)
    assert "closed the connection" in failure.message, failure.message
    if net.sees_every_frame:
        assert "HTTP/1.1 101 Switching Protocols" in failure.message


def test_a_401_answered_with_the_url_credentials_opens_with_the_second_answer(net: Net) -> None:
    """QWebSocket answers a Basic challenge with the URL's credentials on the same connection: what the Qt engine
    shows is the answer that opened the connection, and the frames after it arrive intact."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_handshake(reader)
        writer.write(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="feeds"\r\nContent-Length: 4\r\n'
                     b"\r\nnope")
        await writer.drain()
        headers = await read_handshake(reader)
        if headers is None or "authorization" not in headers:
            return
        writer.write(upgrade("X-Second: yes\r\n")(headers) + b"\x81\x05hello")  # type: ignore[operator]
        await writer.drain()
        await reader.read()

    _peer, url = net.hostile(behaviour)
    url = url.replace("ws://", "ws://user:secret@")
    if not net.sees_every_frame:
        rec = net.open(url)
        assert rec.opened[0].response_headers is not None
        assert ("X-Second", "yes") in rec.opened[0].response_headers
        assert all(name != "WWW-Authenticate" for name, _ in rec.opened[0].response_headers)
        net.qtbot.waitUntil(lambda: len(rec.incoming(data_only=True)) == 1, timeout=WAIT_MS)
        assert rec.incoming(data_only=True)[0].payload == b"hello"
    else:
        rec = net.open_until("failed", url)  # the Wire engine does not answer challenges: the 401 is the answer
        [failure] = rec.failed
        assert failure.http_status == 401 and 'Basic realm="feeds"' in failure.message
