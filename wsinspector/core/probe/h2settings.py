"""The server's first HTTP/2 frame, read from bytes: whether it offers WebSocket over HTTP/2. After the client
connection preface, a server's first frame must be SETTINGS (RFC 9113 §3.4); SETTINGS_ENABLE_CONNECT_PROTOCOL
= 1 in it is how a server offers the extended CONNECT that carries WebSockets (RFC 8441 §3). No I/O here."""

from __future__ import annotations

#: frame type SETTINGS, its ACK flag, and the parameter of RFC 8441 §3
SETTINGS = 0x4
ACK = 0x1
ENABLE_CONNECT_PROTOCOL = 0x8
#: the client connection preface (RFC 9113 §3.4): the magic, then an empty SETTINGS frame
CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, SETTINGS, 0, 0, 0, 0, 0])
HEADER = 9
#: the longest SETTINGS frame read (682 parameters): bytes past it are not waited for
MAX_SETTINGS = 682 * 6


class FrameError(ValueError):
    """The bytes are not a server's first SETTINGS frame; the message says why, in words."""


def first_settings(data: bytes) -> dict[int, int] | None:
    """The parameters of the server's first frame (a later value of a repeated one wins), or None while more
    bytes are needed. :class:`FrameError` when it is not a SETTINGS frame on stream 0 of a whole number of
    parameters, or longer than :data:`MAX_SETTINGS`."""
    if len(data) < HEADER:
        return None
    length = int.from_bytes(data[0:3], "big")
    kind, flags = data[3], data[4]
    stream = int.from_bytes(data[5:9], "big") & 0x7FFF_FFFF
    if kind != SETTINGS:
        raise FrameError(f"the first frame is not SETTINGS (type 0x{kind:x}, {length} bytes)"
                         + (": an HTTP/1.1 answer" if data.startswith(b"HTTP/") else ""))
    if stream != 0:
        raise FrameError(f"a SETTINGS frame on stream {stream}, not 0")
    if flags & ACK:
        raise FrameError("the first frame is a SETTINGS acknowledgement, not the server's SETTINGS")
    if length % 6:
        raise FrameError(f"a SETTINGS frame of {length} bytes, not a whole number of 6-byte parameters")
    if length > MAX_SETTINGS:
        raise FrameError(f"a SETTINGS frame of {length} bytes, over the {MAX_SETTINGS} read")
    if len(data) < HEADER + length:
        return None
    body = data[HEADER:HEADER + length]
    return {int.from_bytes(body[i:i + 2], "big"): int.from_bytes(body[i + 2:i + 6], "big")
            for i in range(0, length, 6)}

