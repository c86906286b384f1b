"""Real peers for tests, all on 127.0.0.1 and free ports: a `websockets` server, Qt's QWebSocketServer,
and a hostile raw-socket server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QByteArray, QObject
from PySide6.QtNetwork import QHostAddress
from PySide6.QtWebSockets import QWebSocket, QWebSocketProtocol, QWebSocketServer

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# -- websockets (python) ----------------------------------------------------------------------------

class WebsocketsPeer:
    """A `websockets` asyncio server on the shared qasync loop. ``handler(connection)`` defaults to echo.
    ``received`` records every message the server got; ``request_headers`` and ``response_headers`` the last
    handshake's headers."""

    def __init__(self, handler: Callable[[Any], Awaitable[None]] | None = None, **serve_kwargs: Any) -> None:
        self.handler = handler or self.echo
        self.serve_kwargs = serve_kwargs
        self.server: Any = None
        self.received: list[str | bytes] = []
        self.request_headers: Any = None
        self.response_headers: Any = None
        self.subprotocol: str | None = None
        self.connections: list[Any] = []

    @property
    def closes(self) -> list[Any]:
        """The close frame each connection that has ended got from the client (None: none came)."""
        from websockets.protocol import State

        return [ws.protocol.close_rcvd for ws in self.connections if ws.protocol.state is State.CLOSED]

    async def echo(self, ws: Any) -> None:
        async for message in ws:
            self.received.append(message)
            await ws.send(message)

    async def _handle(self, ws: Any) -> None:
        self.request_headers = ws.request.headers
        self.response_headers = ws.response.headers
        self.subprotocol = ws.subprotocol
        # a client going away in the middle of a handler is normal here
        self.connections.append(ws)
        with contextlib.suppress(Exception):
            await self.handler(ws)

    async def start(self) -> str:
        from websockets.asyncio.server import serve

        self.server = await serve(self._handle, "127.0.0.1", 0, **self.serve_kwargs)
        return self.url

    @property
    def url(self) -> str:
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# -- QWebSocketServer --------------------------------------------------------------------------------

class QtPeer(QObject):
    """A QWebSocketServer peer: echoes messages; ``outgoing_frame_size`` makes it fragment what it sends.

    It records what it got: ``received`` (messages), ``frames_received`` (each data frame's payload as UTF-8
    bytes or raw bytes, and its FIN bit), ``pongs`` (payloads of the pongs answering its pings) and, per
    client that went away, ``disconnects`` (the close code and reason QWebSocket read from the client)."""

    def __init__(self, outgoing_frame_size: int | None = None) -> None:
        super().__init__()
        self.server = QWebSocketServer("qt peer", QWebSocketServer.SslMode.NonSecureMode, self)
        self.server.newConnection.connect(self._on_new_connection)
        self.outgoing_frame_size = outgoing_frame_size
        self.clients: list[QWebSocket] = []
        self.received: list[str | bytes] = []
        self.frames_received: list[tuple[bytes, bool]] = []
        self.pongs: list[bytes] = []
        self.disconnects: list[tuple[int, str]] = []

    def listen(self) -> str:
        assert self.server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), 0)
        return f"ws://127.0.0.1:{self.server.serverPort()}/"

    def _on_new_connection(self) -> None:
        while self.server.hasPendingConnections():
            client = self.server.nextPendingConnection()
            if self.outgoing_frame_size:
                client.setOutgoingFrameSize(self.outgoing_frame_size)
            client.textMessageReceived.connect(lambda text, c=client: self._on_text(c, text))
            client.binaryMessageReceived.connect(lambda data, c=client: self._on_binary(c, data))
            client.textFrameReceived.connect(lambda text, last: self.frames_received.append((text.encode(), last)))
            client.binaryFrameReceived.connect(lambda data, last: self.frames_received.append((data.data(), last)))
            client.pong.connect(lambda _elapsed, payload: self.pongs.append(payload.data()))
            client.disconnected.connect(lambda c=client: self._on_disconnected(c))
            self.clients.append(client)

    def _on_disconnected(self, client: QWebSocket) -> None:
        self.disconnects.append((int(client.closeCode().value), client.closeReason()))

    def _on_text(self, client: QWebSocket, text: str) -> None:
        self.received.append(text)
        client.sendTextMessage(text)

    def _on_binary(self, client: QWebSocket, data: QByteArray) -> None:
        self.received.append(data.data())
        client.sendBinaryMessage(data)

    def send_text_to_all(self, text: str) -> None:
        for client in self.clients:
            client.sendTextMessage(text)

    def ping_all(self, payload: bytes) -> None:
        for client in self.clients:
            client.ping(QByteArray(payload))

    def close_all(self, code: int, reason: str) -> None:
        for client in self.clients:
            client.close(QWebSocketProtocol.CloseCode(code), reason)

    def stop(self) -> None:
        self.server.close()
        for client in self.clients:
            client.abort()
            client.deleteLater()
        self.clients.clear()


# -- a hostile raw server ----------------------------------------------------------------------------

def frame_header(opcode: int, length: int, fin: bool = True, rsv: int = 0, mask: bool = False) -> bytes:
    """A frame header; ``rsv`` is the 3-bit RSV field (4 = RSV1, 2 = RSV2, 1 = RSV3). With ``mask`` the 4-byte
    masking key is not included: append it."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask else 0
    if length < 126:
        return bytes([first, mask_bit | length])
    if length < 65536:
        return bytes([first, mask_bit | 126]) + struct.pack("!H", length)
    return bytes([first, mask_bit | 127]) + struct.pack("!Q", length)


def server_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    return frame_header(opcode, len(payload), fin, rsv) + payload


def mask_payload(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def masked_server_frame(opcode: int, payload: bytes, key: bytes = b"\x37\xfa\x21\x3d") -> bytes:
    """A frame with the mask bit set, as only a client may send (RFC 6455 5.1: a server must not mask)."""
    return frame_header(opcode, len(payload), mask=True) + key + mask_payload(payload, key)


async def read_handshake(reader: asyncio.StreamReader) -> dict[str, str] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}


def accept_response(headers: dict[str, str], extensions: str = "") -> bytes:
    """The 101 answer; ``extensions``: a Sec-WebSocket-Extensions value to claim, whatever the client offered."""
    key = headers.get("sec-websocket-key", "").encode()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    extra = f"Sec-WebSocket-Extensions: {extensions}\r\n".encode() if extensions else b""
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extra + b"\r\n")


Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    """A raw asyncio TCP server speaking just enough HTTP/WebSocket to misbehave in a chosen way."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self.behaviour(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.url

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await asyncio.sleep(0)


# behaviours ----------------------------------------------------------------------------------------

async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept TCP, read the request, say nothing."""
    await reader.read()  # until the client gives up


def http_status(status: int, reason: str) -> Behaviour:
    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_handshake(reader)
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()

    return behaviour


def after_upgrade(then: Behaviour, extensions: str = "") -> Behaviour:
    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = await read_handshake(reader)
        if headers is None:
            return
        writer.write(accept_response(headers, extensions))
        await writer.drain()
        await then(reader, writer)

    return behaviour


def sends_then_waits(data: bytes) -> Behaviour:
    async def then(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await reader.read()

    return after_upgrade(then)


def sends_then_drops(data: bytes) -> Behaviour:
    async def then(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.transport.abort()

    return after_upgrade(then)


def oversized_frame(size: int) -> Behaviour:
    return sends_then_waits(frame_header(0x2, size) + b"\0" * size)


def closes_with(code: int, reason: str) -> Behaviour:
    return sends_then_waits(server_frame(0x8, struct.pack("!H", code) + reason.encode()))
