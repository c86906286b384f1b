"""Frames a WebSocket client must refuse from a server (RFC 6455), one of each kind, for the tests that check
that nothing refused ever counts as a message: ``REJECTED`` maps a name to the bytes a server sends and the
opcode the frame would look like if it were taken (what a step waiting for it would name)."""

from __future__ import annotations

import struct
from typing import NamedTuple

from tests.peers import frame_header, masked_server_frame, server_frame
from wsinspector.core.frames import Opcode


class Rejected(NamedTuple):
    data: bytes
    #: what a step would wait for to take the frame as a message
    looks_like: Opcode
    #: the Qt engine sees it (QWebSocket takes masked frames from a server)
    qt_sees_it: bool = True


def _close(body: bytes) -> bytes:
    return server_frame(0x8, body)


REJECTED: dict[str, Rejected] = {
    "close code 1005": Rejected(_close(struct.pack("!H", 1005)), Opcode.CLOSE),
    "close code 1006": Rejected(_close(struct.pack("!H", 1006)), Opcode.CLOSE),
    "close code 999": Rejected(_close(struct.pack("!H", 999) + b"bye"), Opcode.CLOSE),
    "close code 2000": Rejected(_close(struct.pack("!H", 2000)), Opcode.CLOSE),
    "close code 5000": Rejected(_close(struct.pack("!H", 5000)), Opcode.CLOSE),
    "one-byte close body": Rejected(_close(b"\x03"), Opcode.CLOSE),
    "close frame of 126 bytes": Rejected(frame_header(0x8, 126) + struct.pack("!H", 1000) + b"x" * 124, Opcode.CLOSE),
    "close reason not UTF-8": Rejected(_close(struct.pack("!H", 1000) + b"bad \xff\xfe"), Opcode.CLOSE),
    "fragmented close": Rejected(server_frame(0x8, struct.pack("!H", 1000), fin=False), Opcode.CLOSE),
    "close with RSV3": Rejected(server_frame(0x8, struct.pack("!H", 1000), rsv=1), Opcode.CLOSE),
    "masked close": Rejected(masked_server_frame(0x8, struct.pack("!H", 1000)), Opcode.CLOSE, qt_sees_it=False),
    "text not UTF-8": Rejected(server_frame(0x1, b"caf\xc3"), Opcode.TEXT),
    "text fragment not UTF-8": Rejected(server_frame(0x1, b"ok ", fin=False) + server_frame(0x0, b"\xff"),
                                        Opcode.TEXT),
    "reserved data opcode 0x3": Rejected(server_frame(0x3, b"abc"), Opcode.BINARY),
    "reserved control opcode 0xb": Rejected(server_frame(0xB, b"abc"), Opcode.BINARY),
    "text with RSV1": Rejected(server_frame(0x1, b"abc", rsv=4), Opcode.TEXT),
    "ping with RSV2": Rejected(server_frame(0x9, b"abc", rsv=2), Opcode.PING),
    "masked text": Rejected(masked_server_frame(0x1, b"abc"), Opcode.TEXT, qt_sees_it=False),
    "masked ping": Rejected(masked_server_frame(0x9, b"abc"), Opcode.PING, qt_sees_it=False),
    "frame over the size limit": Rejected(frame_header(0x2, 100 * 1024 * 1024) + b"\0" * 16, Opcode.BINARY),
    "continuation with nothing to continue": Rejected(server_frame(0x0, b"abc"), Opcode.TEXT),
    "text inside a fragmented text": Rejected(server_frame(0x1, b"ab", fin=False) + server_frame(0x1, b"cd"),
                                              Opcode.TEXT),
    "fragmented ping": Rejected(server_frame(0x9, b"ab", fin=False), Opcode.PING),
}
