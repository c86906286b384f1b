"""A valid message, then a frame that breaks the connection: the valid message is delivered, and can be
answered, before the connection is failed, whatever reads the bytes arrive in (the first read may carry the
server's 101 response too). This is what Autobahn|Testsuite's cases 3.2-3.7, 4.1.3-4.2.5 and 5.15 call
strict: an echo of the valid message comes back before the close frame."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.protocol import CONNECTING
from websockets.uri import parse_uri
from websockets.utils import accept_key

from tests.core.wire.wirebytes import NOW, Recorder, client, close_body, frame, sent, server
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header as frame_header
from wsinspector.core.profiles import Compression, Endpoint, Handshake, Limits, ResolvedTarget
from wsinspector.core.wire.client import send_request
from wsinspector.core.wire.engine import FAST_FRAME_MAX, WireEngine
from wsinspector.core.wire.protocol import WireClientProtocol

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
HELLO = b"Hello, world!"
LIMIT = 1000

#: a frame the client must fail the connection on, and the close code it answers with
BAD_FRAMES: dict[str, tuple[bytes, int]] = {
    "RSV2 set (3.2)": (frame(TEXT, HELLO, rsv=2), 1002),
    "RSV2 and RSV3 set (3.3)": (frame(TEXT, HELLO, rsv=3), 1002),
    "RSV1 set, nothing negotiated": (frame(BINARY, HELLO, rsv=4), 1002),
    "RSV on a ping (3.6)": (frame(PING, HELLO, rsv=6), 1002),
    "reserved data opcode 3 (4.1.3)": (b"\x83\x00", 1002),
    "reserved data opcode 7 with a payload (4.1.4)": (frame(0x7, b"reserved"), 1002),
    "reserved control opcode 0xB (4.2.3)": (b"\x8b\x00", 1002),
    "reserved control opcode 0xF with a payload (4.2.4)": (frame(0xF, b"reserved"), 1002),
    "masked by the server": (frame(TEXT, b"masked", key=b"\x01\x02\x03\x04"), 1002),
    "a continuation with nothing to continue (5.15)": (frame(CONT, b"fragment3", fin=False), 1002),
    "a fragmented ping (5.2)": (frame(PING, b"p", fin=False), 1002),
    "a control frame over 125 bytes (2.5)": (frame(PING, b"x" * 126), 1002),
    "text that is not UTF-8 (6.3.1)": (frame(TEXT, "κόσμε".encode() + b"\xed\xa0\x80edited"), 1007),
    "a close frame with a 1-byte body (7.3.2)": (frame(CLOSE, b"\x03"), 1002),
    "a close frame with code 1005 (7.9.2)": (frame(CLOSE, close_body(1005)), 1002),
    "a close reason that is not UTF-8 (7.5.1)": (frame(CLOSE, struct.pack("!H", 1000) + b"\xce\xba\xff"), 1007),
    "a frame over the size limit (9.x)": (frame(BINARY, b"z" * (LIMIT + 1)), 1009),
}

#: the valid message, as one whole frame (the fast path) or in fragments (the protocol library)
VALID = {
    "whole": frame(TEXT, HELLO),
    "fragmented": frame(TEXT, HELLO[:5], fin=False) + frame(CONT, HELLO[5:9], fin=False) + frame(CONT, HELLO[9:]),
}


class EchoClient:
    """A client engine that answers every whole incoming message with the same message, at once, from the
    callback that delivers it, as long as the connection is open (Autobahn's client protocol)."""

    def __init__(self) -> None:
        self.rec = Recorder()
        self.engine = self._connecting()
        self._parts: list[bytes] = []
        self._text = False
        self.echoed: list[bytes] = []

    def _connecting(self) -> WireEngine:
        proto = WireClientProtocol(parse_uri("ws://example.test/feed"), state=CONNECTING, max_size=(LIMIT, LIMIT))
        engine = WireEngine(proto, sink=self._sink, whole_in=self._whole_in, on_event=self.rec.on_event,
                            close_timeout_s=5.0, max_size=LIMIT)
        target = ResolvedTarget(endpoint=Endpoint(url="ws://example.test/feed"),
                                handshake=Handshake(timeout_s=5.0),
                                limits=Limits(max_message_size=LIMIT, max_frame_size=LIMIT),
                                compression=Compression(deflate=False))
        send_request(engine, target, "wsinspector/test", NOW)
        (request,) = engine.data_to_send()
        key = next(line.split(b": ")[1] for line in request.split(b"\r\n")
                   if line.startswith(b"Sec-WebSocket-Key"))
        self.response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept_key(key.decode()).encode() + b"\r\n\r\n")
        return engine

    def _deliver(self, payload: bytes, is_text: bool) -> None:
        if self.engine.is_open:
            self.engine.send(payload, is_text, NOW)
            self.echoed.append(payload)

    def _whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        self.rec.whole_in(meta, payload, ts_ns)
        self._deliver(payload, frame_header.opcode(meta) == Opcode.TEXT)

    def _sink(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
              *fields: Any, **named: Any) -> None:
        self.rec.sink(direction, opcode, payload, ts_ns, fin, *fields, **named)
        if direction is not Direction.IN or opcode.is_control or str(fields[-1] if fields else "").startswith(
                "rejected"):
            return
        if opcode is not Opcode.CONTINUATION:
            self._parts, self._text = [], opcode is Opcode.TEXT
        self._parts.append(payload)
        if fin:
            self._deliver(b"".join(self._parts), self._text)


def cuts(size: int) -> Iterator[tuple[str, list[int]]]:
    """Where to cut a stream of ``size`` bytes into reads: not at all, at every position into two reads, and
    into one read per byte."""
    yield "one read", []
    for cut in range(1, size):
        yield f"two reads, split at {cut}", [cut]
    yield "byte by byte", list(range(1, size))


@pytest.mark.parametrize("valid", VALID)
@pytest.mark.parametrize("bad", BAD_FRAMES)
def test_the_valid_message_is_answered_before_the_bad_frame_fails_the_connection(valid: str, bad: str) -> None:
    bad_frame, code = BAD_FRAMES[bad]
    frames = VALID[valid] + bad_frame + frame(PING, b"after")
    for how, at in cuts(len(EchoClient().response + frames)):
        peer = EchoClient()
        stream = peer.response + frames  # the 101 response and the frames behind it
        for start, end in zip([0, *at], [*at, len(stream)], strict=True):
            peer.engine.receive_data(stream[start:end], NOW)
        written = [(b0, payload if b0 != 0x88 else payload[:2]) for b0, payload in sent(peer.engine)]
        assert written == [(0x81, HELLO), (0x88, struct.pack("!H", code))], how
        assert peer.echoed == [HELLO], how
        incoming = peer.rec.incoming()
        assert b"".join(s.payload for s in incoming if not s.opcode.is_control and not s.note) == HELLO, how
        assert incoming[-1].note, how  # the bad frame is shown last, with why; the ping after it never is


#: Autobahn's 6.4.3: valid UTF-8, then the bytes that make it invalid, then the rest
PART1 = "κόσμε".encode()
PART2 = b"\xf4\x90\x80\x80"  # past U+10FFFF: no UTF-8 sequence starts so
PART3 = b"edited"


def _text_frame_in_chops(payload_size: int, *, key: bytes | None = None) -> tuple[bytes, int, int]:
    """A text frame of ``payload_size`` bytes whose payload is PART1, PART2, PART3 then padding, and where
    PART2 begins and ends in its bytes."""
    payload = PART1 + PART2 + PART3 + b"a" * (payload_size - len(PART1 + PART2 + PART3))
    data = frame(TEXT, payload, key=key)
    head = len(data) - len(payload)
    return data, head + len(PART1), head + len(PART1) + len(PART2)


@pytest.mark.parametrize("size", [64, FAST_FRAME_MAX + 10])
def test_text_that_goes_wrong_in_a_frame_not_yet_whole_fails_at_once(size: int) -> None:
    """The bytes that break UTF-8 fail the connection with 1007 as soon as they arrive, not once the rest of
    the frame has come (RFC 6455 §8.1; Autobahn 6.4.3 and 6.4.4 wait a second between the parts)."""
    data, part2, part3 = _text_frame_in_chops(size)
    rec = Recorder()
    engine = client(rec, max_size=1 << 20)
    engine.receive_data(data[:part2], NOW)
    assert sent(engine) == [] and rec.incoming() == []
    engine.receive_data(data[part2:part3], NOW)
    assert sent(engine) == [(0x88, close_body(1007, "invalid continuation byte at position 10"))]
    (shown,) = rec.incoming()
    assert shown.opcode is Opcode.TEXT and shown.length == size and shown.payload == PART1 + PART2
    assert shown.note == (f"not valid UTF-8 in its first {part3 - (len(data) - size)} of {size} bytes: the "
                          "connection is failed with 1007 without waiting for the rest")
    info = engine.close_info(aborted=False, timed_out=False, lost_detail="")
    assert info.failure is not None and "the server sent text that is not valid UTF-8" in info.failure.detail
    engine.receive_data(data[part3:], NOW)
    assert sent(engine) == [] and len(rec.incoming()) == 1


def test_a_continuation_that_goes_wrong_before_it_is_whole_fails_at_once() -> None:
    rec = Recorder()
    engine = client(rec)
    engine.receive_data(frame(TEXT, b"start ", fin=False), NOW)
    data, part2, part3 = _text_frame_in_chops(100)
    data = bytes([CONT | 0x80]) + data[1:]
    engine.receive_data(data[:part2], NOW)
    assert sent(engine) == []
    engine.receive_data(data[part2:part3], NOW)
    assert [b0 for b0, _ in sent(engine)] == [0x88]
    assert [s.opcode for s in rec.incoming()] == [Opcode.TEXT, Opcode.CONTINUATION]


def test_the_server_role_fails_fast_on_masked_text_too() -> None:
    rec = Recorder()
    engine = server(rec)
    data, part2, part3 = _text_frame_in_chops(64, key=b"\x0f\xa5\x3c\x81")
    engine.receive_data(data[:part2], NOW)
    assert sent(engine) == []
    engine.receive_data(data[part2:part3], NOW)
    assert [b0 for b0, _ in sent(engine)] == [0x88, -1]  # the server drops the TCP connection after its close
    assert rec.incoming()[0].payload == PART1 + PART2


@pytest.mark.parametrize("step", [1, 2, 3, 5, 16])
def test_valid_text_arriving_a_few_bytes_at_a_time_is_delivered_whole(step: int) -> None:
    """Checking text before its frame is whole never refuses valid text cut inside a character."""
    payload = ("κόσμε 𝄞 " * 40).encode()
    stream = frame(TEXT, payload) + frame(TEXT, payload[:7], fin=False) + frame(CONT, payload[7:])
    for role in (client, server):
        rec = Recorder()
        engine = role(rec)
        data = stream if role is client else (frame(TEXT, payload, key=b"abcd") + frame(TEXT, payload[:7], fin=False,
                                              key=b"efgh") + frame(CONT, payload[7:], key=b"ijkl"))
        for i in range(0, len(data), step):
            engine.receive_data(data[i:i + step], NOW)
        assert sent(engine) == []
        got = [s.payload for s in rec.incoming()]
        assert got == [payload, payload[:7], payload[7:]]
