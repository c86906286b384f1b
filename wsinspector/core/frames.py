"""The frame record every layer agrees on, and message assembly from frames.

A :class:`Frame` carries every field an RFC 6455 frame header has. An engine that cannot see a field
(QtWebSockets hides RSV bits, masking and the wire length of incoming frames) leaves it ``None``:
unknown is shown as unknown, never invented.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field


class Opcode(enum.IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        return self >= 0x8

    @property
    def label(self) -> str:
        return _OPCODE_LABELS[self]


_OPCODE_LABELS = {
    Opcode.CONTINUATION: "continuation",
    Opcode.TEXT: "text",
    Opcode.BINARY: "binary",
    Opcode.CLOSE: "close",
    Opcode.PING: "ping",
    Opcode.PONG: "pong",
}


class Direction(enum.Enum):
    IN = "in"
    OUT = "out"

    #: each member is its only instance: hashed by identity in C, not by ``Enum.__hash__`` in Python (a key of
    #: the log's per-frame cache and of every per-direction table on the hot path)
    __hash__ = object.__hash__

    @property
    def arrow(self) -> str:
        return "↓ in" if self is Direction.IN else "↑ out"


@dataclass(frozen=True, slots=True)
class Frame:
    """One WebSocket frame, as seen at the moment the engine handed it over (or wrote it).

    ``payload`` is the application data after unmasking (and, later, decompression).
    ``payload_length`` is the length field from the wire header, when the engine can see it.
    """

    seq: int
    ts_ns: int
    direction: Direction
    opcode: Opcode
    payload: bytes
    fin: bool | None
    rsv1: bool | None = None
    rsv2: bool | None = None
    rsv3: bool | None = None
    masked: bool | None = None
    mask_key: bytes | None = None
    payload_length: int | None = None
    #: free-form remark from the engine, e.g. that a close frame was reconstructed from the close code
    note: str = field(default="")
    #: read back from a damaged file: the fields the file no longer holds are placeholders (``note`` says what)
    damaged: bool = False
    #: a recording proxy's frame on its upstream hop (wsinspector <-> the upstream server); False: its client
    #: hop, or a connection of one hop
    upstream: bool = False

    @property
    def size(self) -> int:
        """Bytes of payload as delivered (the wire length when the engine reports it, else the data)."""
        return self.payload_length if self.payload_length is not None else len(self.payload)

    @property
    def close_code(self) -> int | None:
        return parse_close_payload(self.payload)[0] if self.opcode is Opcode.CLOSE else None

    @property
    def close_reason(self) -> str:
        return parse_close_payload(self.payload)[1] if self.opcode is Opcode.CLOSE else ""


def close_payload(code: int | None, reason: str = "") -> bytes:
    """Encode a close frame body. No code means an empty body (the peer then sees 1005)."""
    if code is None:
        return b""
    return struct.pack("!H", code) + reason.encode("utf-8")


def parse_close_payload(payload: bytes) -> tuple[int | None, str]:
    """Decode a close frame body into (code, reason); a malformed body yields what can be read."""
    if len(payload) < 2:
        return None, ""
    (code,) = struct.unpack("!H", payload[:2])
    return code, payload[2:].decode("utf-8", errors="replace")


#: Close codes a client may send (RFC 6455 section 7.4; 3000-4999 are registered/private use).
def is_sendable_close_code(code: int) -> bool:
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011) or 3000 <= code <= 4999


CLOSE_CODE_NAMES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status code",
    1006: "abnormal closure",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
    1015: "TLS handshake failure",
}


def describe_close_code(code: int | None) -> str:
    if code is None:
        return "no code"
    name = CLOSE_CODE_NAMES.get(code)
    if name:
        return f"{code} ({name})"
    if 3000 <= code <= 3999:
        return f"{code} (registered)"
    if 4000 <= code <= 4999:
        return f"{code} (application)"
    return str(code)


def split_payload(payload: bytes, frame_size: int) -> list[bytes]:
    """How a message of ``payload`` is cut into frames of at most ``frame_size`` bytes (at least one)."""
    if frame_size <= 0:
        raise ValueError("frame_size must be positive")
    if not payload:
        return [b""]
    return [payload[i : i + frame_size] for i in range(0, len(payload), frame_size)]


@dataclass(frozen=True, slots=True)
class Message:
    """A data message assembled from one or more frames."""

    direction: Direction
    opcode: Opcode  # TEXT or BINARY
    payload: bytes
    first_seq: int
    last_seq: int
    #: data frames in the message (control frames interleaved between them are not counted)
    frame_count: int = 1
    #: sequence numbers of its data frames
    seqs: tuple[int, ...] = ()
    #: its frames travelled on a recording proxy's upstream hop
    upstream: bool = False


class FragmentationError(ValueError):
    """A frame sequence that breaks RFC 6455 section 5.4."""


class MessageAssembler:
    """Builds messages from the data frames of one direction.

    Control frames may arrive between fragments and are ignored here. ``first_seq``/``last_seq`` of a
    fragmented message are the sequence numbers of its first and last data frame (control frames
    interleaved between them keep their own numbers).
    """

    def __init__(self, direction: Direction, upstream: bool = False) -> None:
        self.direction = direction
        #: the messages of a recording proxy's upstream hop (each hop's fragments are assembled apart)
        self.upstream = upstream
        self._opcode: Opcode | None = None
        self._parts: list[bytes] = []
        self._seqs: list[int] = []
        self._first_seq = -1

    @property
    def in_progress(self) -> bool:
        return self._opcode is not None

    @property
    def current_opcode(self) -> Opcode | None:
        """TEXT or BINARY while a fragmented message is being received, else None."""
        return self._opcode

    @property
    def pending_from(self) -> int | None:
        """The seq of the first frame of the message being received, None when none is."""
        return self._first_seq if self._opcode is not None else None

    def so_far(self) -> tuple[Opcode, list[bytes]] | None:
        """The opcode and the payloads of the fragments received of the message under way (None: none is)."""
        return None if self._opcode is None else (self._opcode, list(self._parts))

    def feed(self, frame: Frame) -> Message | None:
        if frame.direction is not self.direction:
            raise ValueError("frame of the other direction")
        return self.feed_parts(frame.opcode, frame.fin, frame.seq, frame.payload)

    def feed_parts(self, opcode: Opcode, fin: bool | None, seq: int, payload: bytes) -> Message | None:
        """Like :meth:`feed`, for a frame of this assembler's direction given by its fields."""
        if opcode.is_control:
            return None
        if opcode is Opcode.CONTINUATION:
            if self._opcode is None:
                raise FragmentationError(f"continuation frame #{seq} without a message to continue")
        else:
            if self._opcode is not None:
                raise FragmentationError(
                    f"new {opcode.label} frame #{seq} before the previous message was finished"
                )
            self._opcode = opcode
            self._first_seq = seq
        if fin is not False and not self._parts:
            # the common case, a message in one frame: no copies
            message = Message(self.direction, opcode, payload, seq, seq, frame_count=1, seqs=(seq,),
                              upstream=self.upstream)
            self._opcode = None
            return message
        self._parts.append(payload)
        self._seqs.append(seq)
        if fin is False:
            return None
        message = Message(self.direction, self._opcode, b"".join(self._parts), self._first_seq, seq,
                          frame_count=len(self._seqs), seqs=tuple(self._seqs), upstream=self.upstream)
        self.reset()
        return message

    def reset(self) -> None:
        self._opcode = None
        self._parts = []
        self._seqs = []

