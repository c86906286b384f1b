"""Frame headers as they crossed the wire: FIN, RSV1-3, opcode, mask bit and key, payload length.

The protocol library decodes frames (unmasking, decompression, validation); what it hands back is the
decoded frame, with RSV1 cleared once a message is decompressed and no trace of the mask. These helpers
read only the 2 to 14 header bytes of each frame, so the timeline can show the real header next to the
decoded payload. Payload bytes are skipped, never copied or interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WireHeader:
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    mask_key: bytes | None
    #: payload length on the wire (compressed length for a compressed frame)
    length: int
    #: bytes taken by the header itself
    header_length: int


def parse_header(data: bytes | bytearray | memoryview) -> WireHeader | None:
    """The header at the start of ``data``, or None when ``data`` is shorter than the whole header."""
    size = len(data)
    if size < 2:
        return None
    b0, b1 = data[0], data[1]
    length = b1 & 0x7F
    pos = 2
    if length == 126:
        if size < 4:
            return None
        length = int.from_bytes(data[2:4], "big")
        pos = 4
    elif length == 127:
        if size < 10:
            return None
        length = int.from_bytes(data[2:10], "big")
        pos = 10
    masked = bool(b1 & 0x80)
    key = None
    if masked:
        if size < pos + 4:
            return None
        key = bytes(data[pos:pos + 4])
        pos += 4
    return WireHeader(fin=bool(b0 & 0x80), rsv1=bool(b0 & 0x40), rsv2=bool(b0 & 0x20), rsv3=bool(b0 & 0x10),
                      opcode=b0 & 0x0F, masked=masked, mask_key=key, length=length, header_length=pos)


#: (first header byte, masked, mask key or None, payload length on the wire): what HeaderScanner returns per
#: frame; FIN is bit 7 of the first byte, RSV1-3 bits 6-4, the opcode bits 3-0
RawHeader = tuple[int, bool, bytes | None, int]


class HeaderScanner:
    """Follows a byte stream of frames and returns each frame's header as soon as its header is complete.

    ``skip_http=True`` first passes over an HTTP message head (up to the blank line), as a client sees the
    handshake response before the first frame. Headers come back as :data:`RawHeader` tuples: this runs
    once per frame read by the protocol library, so it builds no objects beyond them.
    """

    __slots__ = ("_http", "_pending", "_skip")

    def __init__(self, *, skip_http: bool = False) -> None:
        self._http = skip_http
        self._pending = b""  # a header split across reads
        self._skip = 0  # payload bytes of the current frame still to pass over

    @property
    def at_boundary(self) -> bool:
        """Whether everything fed so far ends where a frame ends (past the HTTP head, when skipping it)."""
        return not (self._http or self._skip or self._pending)

    @property
    def payload_left(self) -> int:
        """Payload bytes of the current frame still to come, when its header has been read (else 0)."""
        return 0 if self._http or self._pending else self._skip

    def feed(self, data: bytes) -> list[RawHeader]:  # noqa: C901, PLR0912
        headers: list[RawHeader] = []
        if self._http:
            buffered = self._pending + data
            end = buffered.find(b"\r\n\r\n")
            if end < 0:
                self._pending = buffered[-3:]
                return headers
            self._http = False
            self._pending = b""
            data = buffered[end + 4:]
        size = len(data)
        pos = 0
        if self._skip:
            if self._skip >= size:
                self._skip -= size
                return headers
            pos = self._skip
            self._skip = 0
        if self._pending:
            # a header cut by the previous read: at most 14 bytes, complete it
            pending = self._pending
            joined = pending + data[pos:pos + 14]
            header = parse_header(joined)
            if header is None:
                self._pending = joined
                return headers
            self._pending = b""
            headers.append((joined[0], header.masked, header.mask_key, header.length))
            pos += header.header_length - len(pending) + header.length
        append = headers.append
        while pos < size:
            if pos + 2 > size:
                break
            b1 = data[pos + 1]
            length = b1 & 0x7F
            start = pos
            pos += 2
            if length == 126:
                if pos + 2 > size:
                    pos = start
                    break
                length = (data[pos] << 8) | data[pos + 1]
                pos += 2
            elif length == 127:
                if pos + 8 > size:
                    pos = start
                    break
                length = int.from_bytes(data[pos:pos + 8], "big")
                pos += 8
            if b1 & 0x80:
                if pos + 4 > size:
                    pos = start
                    break
                append((data[start], True, data[pos:pos + 4], length))
                pos += 4 + length
            else:
                append((data[start], False, None, length))
                pos += length
        if pos > size:
            self._skip = pos - size
        elif pos < size:
            self._pending = data[pos:]
        return headers
