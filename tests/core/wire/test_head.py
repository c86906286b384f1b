"""Frame headers read once, where a frame starts: in a buffer (the fast path) or off a stream (the reader in
front of the protocol library); every split of the stream gives the same headers."""

from __future__ import annotations

import random

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from wsinspector.core.wire.head import Head, head_at, read_head


def _frames() -> list[tuple[bytes, Head]]:
    rng = random.Random(7)
    out: list[tuple[bytes, Head]] = []
    for frame, key in [
        (Frame(Opcode.TEXT, b"hello", fin=False), b"\x01\x02\x03\x04"),
        (Frame(Opcode.PING, b"p"), None),
        (Frame(Opcode.CONT, b"", fin=True), b"\x00\x00\x00\x00"),
        (Frame(Opcode.BINARY, rng.randbytes(126)), None),  # 16-bit length
        (Frame(Opcode.BINARY, rng.randbytes(70_000)), b"\xff\xee\xdd\xcc"),  # 64-bit length
        (Frame(Opcode.CLOSE, b"\x03\xe8bye"), None),
    ]:
        data = bytearray(frame.serialize(mask=key is not None))
        size = 2 + (2 if 126 <= len(frame.data) <= 0xFFFF else 8 if len(frame.data) > 0xFFFF else 0)
        if key is not None:
            data[size:size + 4] = key  # the key on the wire is the one reported (the payload stays as masked)
            size += 4
        out.append((bytes(data), (data[0], key is not None, key, len(frame.data), size)))
    return out


def test_a_header_in_a_buffer() -> None:
    for data, head in _frames():
        assert head_at(data, 0, data[1]) == head
        assert head_at(b"xx" + data, 2, data[1]) == head


def test_an_incomplete_header_is_none() -> None:
    data = Frame(Opcode.BINARY, b"x" * 70_000).serialize(mask=True)
    for cut in range(2, 14):
        assert head_at(data[:cut], 0, data[1]) is None
    assert head_at(data[:14], 0, data[1]) == (0x82, True, data[10:14], 70_000, 14)


def test_a_huge_length_is_read_not_allocated() -> None:
    data = b"\x82\x7f" + (2**63 - 1).to_bytes(8, "big")
    assert head_at(data, 0, data[1]) == (0x82, False, None, 2**63 - 1, 10)


@pytest.mark.parametrize("step", [1, 2, 3, 5, 13, 1000])
def test_headers_off_a_stream_in_pieces(step: int) -> None:
    frames = _frames()
    stream = b"".join(data for data, _ in frames)
    reader = StreamReader()
    heads: list[Head] = []

    def read_all():  # type: ignore[no-untyped-def]
        while True:
            head = yield from read_head(reader.read_exact)
            heads.append(head)
            yield from reader.read_exact(head[3])

    parser = read_all()
    next(parser)
    for i in range(0, len(stream), step):
        reader.feed_data(stream[i:i + step])
        next(parser)
    assert heads == [head for _, head in frames]
