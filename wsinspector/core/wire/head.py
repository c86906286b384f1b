"""The header of one incoming frame, read once, where the frame starts.

A :data:`Head` is what every other part of the wire core knows of a frame's header: the first header byte
(FIN is bit 7, RSV1-3 bits 6-4, the opcode bits 3-0), whether the payload is masked and with which key, the
payload length on the wire, and how many bytes the header took. Whoever reads a header first (the fast path,
or the frame reader in front of the protocol library) hands the :data:`Head` on; nothing reads it again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

#: (first header byte, masked, mask key or None, payload length on the wire, header length in bytes)
Head = tuple[int, bool, bytes | None, int, int]


def head_at(data: bytes, pos: int, b1: int) -> Head | None:
    """The header of the frame at ``data[pos]``, whose second byte ``b1`` the caller has read already; None
    when ``data`` ends before the header does."""
    size = len(data)
    length = b1 & 0x7F
    end = pos + 2
    if length == 126:
        if end + 2 > size:
            return None
        length = (data[end] << 8) | data[end + 1]
        end += 2
    elif length == 127:
        if end + 8 > size:
            return None
        length = int.from_bytes(data[end:end + 8], "big")
        end += 8
    if b1 & 0x80:
        if end + 4 > size:
            return None
        return data[pos], True, data[end:end + 4], length, end + 4 - pos
    return data[pos], False, None, length, end - pos


def read_head(read_exact: Callable[[int], Generator[None, None, bytes | bytearray]]) -> Generator[None, None, Head]:
    """Read one header from a stream (a generator-based coroutine, as the protocol library's reader runs
    them): the bytes are taken as they come, so a header split across reads is read once all the same."""
    first = yield from read_exact(2)
    b0, b1 = first[0], first[1]
    length = b1 & 0x7F
    size = 2
    if length == 126:
        more = yield from read_exact(2)
        length = (more[0] << 8) | more[1]
        size = 4
    elif length == 127:
        more = yield from read_exact(8)
        length = int.from_bytes(more, "big")
        size = 10
    if b1 & 0x80:
        key = yield from read_exact(4)
        return b0, True, bytes(key), length, size + 4
    return b0, False, None, length, size
