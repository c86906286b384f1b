"""Extra raw-socket behaviours for :class:`tests.peers.HostileServer`.

:class:`FrameRecorder` reads and records the client's frames off the wire (unmasked), so tests can compare
what the engine *reports* it sent with what actually crossed the socket, and it answers the client's close
frame the way a test chooses (echo it, send another one, or stay silent).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

from tests.peers import Behaviour, accept_response, after_upgrade, frame_header, read_handshake, server_frame


@dataclass(frozen=True)
class WireFrame:
    """One client frame as read from the socket."""

    opcode: int
    fin: bool
    masked: bool
    payload: bytes
    #: the 3-bit RSV field (4 = RSV1, 2 = RSV2, 1 = RSV3)
    rsv: int = 0
    #: the masking key on the wire, None for an unmasked frame
    mask_key: bytes | None = None
    #: the payload length in the header
    length: int = 0


async def read_client_frame(reader: asyncio.StreamReader) -> WireFrame | None:
    """Read one frame; None at end of stream."""
    try:
        b0, b1 = await reader.readexactly(2)
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        masked = bool(b1 & 0x80)
        key = await reader.readexactly(4) if masked else b"\0\0\0\0"
        data = await reader.readexactly(length)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    if masked:
        data = _unmask(data, key)
    return WireFrame(opcode=b0 & 0x0F, fin=bool(b0 & 0x80), masked=masked, payload=data, rsv=(b0 >> 4) & 0x7,
                     mask_key=key if masked else None, length=length)


def _unmask(data: bytes, key: bytes) -> bytes:
    # XOR with the 4-byte key repeated, done on big integers: fast enough for megabytes.
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


@dataclass
class FrameRecorder:
    """Records every client frame. On the client's close frame it answers with ``close_reply`` (a close frame
    body, or None to stay silent) and, if ``drop_after_close``, closes the TCP connection; otherwise it keeps
    TCP open until the client drops it (``client_hung_up`` then turns True).

    ``extensions``: a Sec-WebSocket-Extensions value to answer the handshake with (the recorder does not
    decompress anything: frames are recorded as they crossed the wire)."""

    close_reply: bytes | None = None
    drop_after_close: bool = True
    #: written right after the upgrade, before reading
    send_first: bytes = b""
    #: write ``send_first`` in pieces of this many bytes, each drained before the next (0: in one write)
    piece: int = 0
    #: answer the client's close frame with the same body (overrides ``close_reply``)
    echo_close: bool = False
    #: written when the client's close frame arrives, before the reply (data the server was still sending)
    send_after_close: bytes = b""
    extensions: str = ""
    frames: list[WireFrame] = field(default_factory=list)
    #: the client closed its end of the TCP connection (end of stream while reading)
    client_hung_up: bool = False

    def behaviour(self) -> Behaviour:
        async def then(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            step = self.piece or max(1, len(self.send_first))
            for start in range(0, len(self.send_first), step):
                writer.write(self.send_first[start:start + step])
                await writer.drain()
            while True:
                frame = await read_client_frame(reader)
                if frame is None:
                    self.client_hung_up = True
                    return
                self.frames.append(frame)
                if frame.opcode == 0x8:
                    if self.send_after_close:
                        writer.write(self.send_after_close)
                        await writer.drain()
                    reply = frame.payload if self.echo_close else self.close_reply
                    if reply is not None:
                        writer.write(server_frame(0x8, reply))
                        await writer.drain()
                    if self.drop_after_close:
                        return
                    with contextlib.suppress(ConnectionError):  # an abort (RST) is a hang-up too
                        await reader.read()
                    self.client_hung_up = True
                    return

        return after_upgrade(then, self.extensions)

    def messages(self) -> list[tuple[int, bytes]]:
        """Data messages reassembled from the recorded frames: (first opcode, payload)."""
        out: list[tuple[int, bytes]] = []
        opcode: int | None = None
        parts: list[bytes] = []
        for frame in self.frames:
            if frame.opcode >= 0x8:
                continue
            if opcode is None:
                opcode = frame.opcode
            parts.append(frame.payload)
            if frame.fin:
                out.append((opcode, b"".join(parts)))
                opcode, parts = None, []
        return out


def sends_then_honours_close(data: bytes) -> Behaviour:
    """Send ``data`` after the upgrade, then behave: answer the client's close frame with the same body and
    hang up (so a test does not sit through QWebSocket's wait for the server to close TCP)."""
    return FrameRecorder(send_first=data, echo_close=True).behaviour()


def declares_oversized_frame(size: int) -> Behaviour:
    """Announce a binary frame of ``size`` bytes (header only), then honour the client's close."""
    return sends_then_honours_close(frame_header(0x2, size))


def upgrades_with(data: bytes) -> Behaviour:
    """Answer the upgrade and send ``data`` in the same write, so the client reads them at once (the frames
    are there before the client can do anything), then answer the client's close frame with the same body and
    hang up."""

    async def behaviour(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = await read_handshake(reader)
        if headers is None:
            return
        writer.write(accept_response(headers) + data)
        await writer.drain()
        while (frame := await read_client_frame(reader)) is not None:
            if frame.opcode == 0x8:
                writer.write(server_frame(0x8, frame.payload))
                await writer.drain()
                return

    return behaviour
