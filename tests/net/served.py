"""A WireServer under test and what each of its clients reported, frame by frame; plain asyncio clients that
speak raw bytes (what a fault looks like on the wire is read from the bytes, not from a library)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wsinspector.core.events import CloseInfo, Failure, OpenInfo
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.wire.server import ServerSettings
from wsinspector.net.wire_server import ClientRequest, ServerClient, ServerTls, WireServer

WAIT_MS = 5000


@dataclass
class Seen:
    """One client of the server and everything it reported, in order."""

    client: ServerClient
    frames: list[Frame] = field(default_factory=list)
    requests: list[ClientRequest] = field(default_factory=list)
    opened: list[OpenInfo] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    rejected: list[Failure] = field(default_factory=list)
    closed: list[CloseInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client.frame.connect(self.frames.append)
        self.client.requested.connect(self.requests.append)
        self.client.opened.connect(self.opened.append)
        self.client.failed.connect(self.failed.append)
        self.client.rejected.connect(self.rejected.append)
        self.client.closed.connect(self.closed.append)

    def incoming(self, opcode: Opcode | None = None) -> list[Frame]:
        return [f for f in self.frames if f.direction is Direction.IN and (opcode is None or f.opcode is opcode)]

    def outgoing(self, opcode: Opcode | None = None) -> list[Frame]:
        return [f for f in self.frames if f.direction is Direction.OUT and (opcode is None or f.opcode is opcode)]

    @property
    def ended(self) -> bool:
        return bool(self.failed or self.closed)


class Served:
    """``served.start(...)`` listens on 127.0.0.1; ``clients`` are the :class:`Seen` of each client so far.
    ``on_request`` (set before a client comes) answers requests; ``echo`` sends each incoming data frame back."""

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot
        self.server: WireServer | None = None
        self.clients: list[Seen] = []
        self.on_request: Callable[[ServerClient, ClientRequest], None] | None = None
        self.echo = True
        self._parts: dict[int, list[Frame]] = {}

    def start(self, settings: ServerSettings | None = None, *, max_clients: int = 8,
              tls: ServerTls | None = None) -> str:
        server = WireServer(settings, max_clients=max_clients, tls=tls)
        server.client_connected.connect(self._on_client)
        self.server = server
        return server.listen("127.0.0.1", 0)

    def _on_client(self, client: ServerClient) -> None:
        seen = Seen(client)
        self.clients.append(seen)
        if self.on_request is not None:
            handler = self.on_request
            client.requested.connect(lambda request: handler(client, request))
        if self.echo:
            client.frame.connect(lambda f: self._echo(client, f))

    def _echo(self, client: ServerClient, frame: Frame) -> None:
        """Each whole message back (its fragments joined)."""
        if frame.direction is not Direction.IN or frame.opcode.is_control or frame.note.startswith("rejected"):
            return
        parts = self._parts.setdefault(id(client), [])
        parts.append(frame)
        if frame.fin:
            self._parts.pop(id(client))
            client.send(b"".join(part.payload for part in parts), parts[0].opcode is Opcode.TEXT)

    def wait_client(self, count: int = 1) -> Seen:
        self.qtbot.waitUntil(lambda: len(self.clients) >= count, timeout=WAIT_MS)
        return self.clients[count - 1]

    def wait_ended(self, seen: Seen) -> None:
        self.qtbot.waitUntil(lambda: seen.ended, timeout=WAIT_MS)

    def stop(self) -> None:
        if self.server is not None:
            self.server.drop_all()
            self.server.deleteLater()
            self.server = None


def upgrade_request(port: int, path: str = "/", extra: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode()


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    """A frame as a client writes it (masked unless told otherwise)."""
    b0 = (0x80 if fin else 0) | opcode
    key = os.urandom(4) if masked else b""
    length = len(payload)
    head = struct.pack("!BB", b0, (0x80 if masked else 0) | length) if length < 126 else \
        struct.pack("!BBH", b0, (0x80 if masked else 0) | 126, length)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if masked else payload
    return head + key + body


@dataclass
class RawFrame:
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes


class RawClient:
    """A client over a plain asyncio stream: it writes what it is given and reads the answer as bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def upgrade(self, port: int, path: str = "/", extra: str = "") -> tuple[int, dict[str, str], bytes]:
        """Send an upgrade request; the answer's status, headers (lower-case names) and the body that came."""
        self.writer.write(upgrade_request(port, path, extra))
        await self.writer.drain()
        return await self.answer()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        length = int(headers.get("content-length", "0"))
        if length:
            body = await self.reader.readexactly(length)
        return status, headers, body

    async def frame(self) -> RawFrame:
        b0, b1 = await self.reader.readexactly(2)
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        key = await self.reader.readexactly(4) if b1 & 0x80 else b""
        payload = await self.reader.readexactly(length)
        if key:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return RawFrame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, bool(b1 & 0x80), payload)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def at_eof(self) -> bool:
        return await self.reader.read(1) == b""

    def close(self) -> None:
        self.writer.close()
