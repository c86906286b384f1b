"""A wire engine fed bytes by hand, and what it reported: frames, whole messages, events, bytes out."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from websockets.frames import apply_mask  # type: ignore[attr-defined]
from websockets.protocol import OPEN
from websockets.uri import parse_uri

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header as frame_header
from wsinspector.core.wire.engine import WireEngine, WireEvent
from wsinspector.core.wire.head import head_at
from wsinspector.core.wire.protocol import WireClientProtocol, WireServerProtocol

NOW = 1_000_000_000


@dataclass
class Seen:
    """One frame as the engine reported it (the sink's fields, or a whole message's)."""

    direction: Direction
    opcode: Opcode
    payload: bytes
    fin: bool | None
    rsv1: bool | None
    rsv2: bool | None
    rsv3: bool | None
    masked: bool | None
    length: int | None
    key: bytes | None
    note: str
    ts_ns: int
    whole: bool = False


@dataclass
class Recorder:
    seen: list[Seen] = field(default_factory=list)
    events: list[WireEvent] = field(default_factory=list)
    #: events and frames in the order they were reported ("event" or the frame's opcode name)
    order: list[str] = field(default_factory=list)

    def sink(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
             rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
             masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
             note: str = "") -> None:
        self.seen.append(Seen(direction, opcode, payload, fin, rsv1, rsv2, rsv3, masked, payload_length, mask_key,
                              note, ts_ns))
        self.order.append(opcode.name)

    def whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        opcode = frame_header.opcode(meta)
        self.seen.append(Seen(Direction.IN, Opcode(opcode), payload, True, False, False, False, False, len(payload),
                              None, "", ts_ns, whole=True))
        self.order.append(Opcode(opcode).name)

    def on_event(self, event: WireEvent) -> None:
        self.events.append(event)
        self.order.append(type(event).__name__)

    def incoming(self) -> list[Seen]:
        return [s for s in self.seen if s.direction is Direction.IN]

    def outgoing(self) -> list[Seen]:
        return [s for s in self.seen if s.direction is Direction.OUT]


def client(rec: Recorder, *, state: Any = OPEN, max_size: int = 1 << 20, frame_max: int | None = None,
           close_timeout_s: float = 5.0) -> WireEngine:
    proto = WireClientProtocol(parse_uri("ws://example.test/feed"), state=state,
                               max_size=(max_size, frame_max if frame_max is not None else max_size))
    return WireEngine(proto, sink=rec.sink, whole_in=rec.whole_in, on_event=rec.on_event,
                      close_timeout_s=close_timeout_s, max_size=min(max_size, frame_max or max_size),
                      host="example.test", port=80)


def server(rec: Recorder, *, max_size: int = 1 << 20) -> WireEngine:
    proto = WireServerProtocol(state=OPEN, max_size=max_size)
    return WireEngine(proto, sink=rec.sink, whole_in=rec.whole_in, on_event=rec.on_event, close_timeout_s=5.0,
                      max_size=max_size)


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, key: bytes | None = None,
          wide: bool = False) -> bytes:
    """One frame's bytes as a peer would write them (``wide``: a 64-bit length even if a short one fits)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if key is not None else 0
    n = len(payload)
    if wide or n > 0xFFFF:
        head = struct.pack("!BBQ", b0, mask_bit | 127, n)
    elif n >= 126:
        head = struct.pack("!BBH", b0, mask_bit | 126, n)
    else:
        head = struct.pack("!BB", b0, mask_bit | n)
    if key is None:
        return head + payload
    return head + key + bytes(apply_mask(payload, key))


def deflate(payload: bytes) -> bytes:
    """``payload`` compressed as permessage-deflate sends it (no context takeover assumed)."""
    compressor = zlib.compressobj(wbits=-15)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


def sent(engine: WireEngine) -> list[tuple[int, bytes]]:
    """The frames written, as (first header byte, unmasked payload); b"" writes (end of stream) as (-1, b"")."""
    frames: list[tuple[int, bytes]] = []
    stream = b""  # a frame may be written in pieces (its header, then its payload)
    for data in engine.data_to_send():
        if not data:
            assert not stream, "a frame was cut short"
            frames.append((-1, b""))
            continue
        stream += data
        while len(stream) >= 2:
            head = head_at(stream, 0, stream[1])
            if head is None or len(stream) < head[4] + head[3]:
                break
            b0, _, key, length, size = head
            body = stream[size:size + length]
            frames.append((b0, bytes(apply_mask(body, key)) if key else bytes(body)))
            stream = stream[size + length:]
    assert not stream, "a frame was cut short"
    return frames


def close_body(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()
