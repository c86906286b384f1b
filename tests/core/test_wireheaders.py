"""Frame headers read off a byte stream: every split of the stream gives the same headers."""

from __future__ import annotations

import random

import pytest
from websockets.frames import Frame, Opcode

from wsinspector.core.wireheaders import HeaderScanner, RawHeader, parse_header

HANDSHAKE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def _frames() -> list[tuple[Frame, bool]]:
    rng = random.Random(7)
    return [
        (Frame(Opcode.TEXT, b"hello", fin=False), True),
        (Frame(Opcode.PING, b"p"), False),
        (Frame(Opcode.CONT, b"", fin=True), True),
        (Frame(Opcode.BINARY, rng.randbytes(126)), False),  # 16-bit length
        (Frame(Opcode.BINARY, rng.randbytes(70_000), rsv1=True), True),  # 64-bit length, RSV1 as if compressed
        (Frame(Opcode.CLOSE, b"\x03\xe8bye"), False),
    ]


def _serialize(frame: Frame, masked: bool) -> bytes:
    data = bytearray(Frame(frame.opcode, frame.data, frame.fin).serialize(mask=masked))
    data[0] |= 0x40 if frame.rsv1 else 0  # the library refuses to write RSV bits without an extension
    return bytes(data)


def _wire(frames: list[tuple[Frame, bool]]) -> bytes:
    return b"".join(_serialize(frame, masked) for frame, masked in frames)


def _expected(frames: list[tuple[Frame, bool]]) -> list[tuple[int, bool, bool, bool, int]]:
    return [(int(f.opcode), f.fin, f.rsv1, masked, len(f.data)) for f, masked in frames]


def _seen(headers: list[RawHeader]) -> list[tuple[int, bool, bool, bool, int]]:
    return [(b0 & 0x0F, bool(b0 & 0x80), bool(b0 & 0x40), masked, length) for b0, masked, _key, length in headers]


def test_whole_stream_at_once() -> None:
    frames = _frames()
    headers = HeaderScanner(skip_http=True).feed(HANDSHAKE + _wire(frames))
    assert _seen(headers) == _expected(frames)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 13, 1000])
def test_stream_in_pieces(step: int) -> None:
    frames = _frames()
    stream = HANDSHAKE + _wire(frames)
    scanner = HeaderScanner(skip_http=True)
    headers = []
    for start in range(0, len(stream), step):
        headers += scanner.feed(stream[start:start + step])
    assert _seen(headers) == _expected(frames)


def test_masked_frames_in_a_stream_keep_their_keys() -> None:
    frames = [Frame(Opcode.TEXT, b"abc").serialize(mask=True) for _ in range(3)]
    headers = HeaderScanner().feed(b"".join(frames))
    assert [key for _b0, _masked, key, _length in headers] == [f[2:6] for f in frames]


def test_mask_key_is_the_one_on_the_wire() -> None:
    data = Frame(Opcode.TEXT, b"abc").serialize(mask=True)
    header = parse_header(data)
    assert header is not None
    assert header.masked and header.mask_key == data[2:6]
    assert bytes(b ^ header.mask_key[i % 4] for i, b in enumerate(data[6:])) == b"abc"


def test_incomplete_header_is_none() -> None:
    data = Frame(Opcode.BINARY, b"x" * 70_000).serialize(mask=True)
    for cut in range(14):
        assert parse_header(data[:cut]) is None
    header = parse_header(data[:14])
    assert header is not None and header.length == 70_000 and header.header_length == 14


def test_a_huge_length_is_read_not_allocated() -> None:
    header = parse_header(b"\x82\x7f" + (2**63 - 1).to_bytes(8, "big"))
    assert header is not None and header.length == 2**63 - 1
    scanner = HeaderScanner()
    assert [h[3] for h in scanner.feed(b"\x82\x7f" + (2**63 - 1).to_bytes(8, "big") + b"abc")] == [2**63 - 1]
