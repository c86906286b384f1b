"""Frames built byte by byte, for what the protocol object would refuse to write: the faults a server offers to
test its clients (a masked frame, a reserved opcode, RSV bits, a message never finished)."""

from __future__ import annotations

import struct

from websockets.frames import apply_mask  # type: ignore[attr-defined]

__all__ = ["raw_frame"]


def raw_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask_key: bytes | None = None) -> bytes:
    """One frame: ``opcode`` any of 0-15, ``rsv`` the three RSV bits (0-7), masked with ``mask_key`` (4 bytes)."""
    if not 0 <= opcode <= 0x0F or not 0 <= rsv <= 7:
        raise ValueError("an opcode is 0-15 and the RSV bits 0-7")
    if mask_key is not None and len(mask_key) != 4:
        raise ValueError("a mask key is 4 bytes")
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask_key is not None else 0
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", b0, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", b0, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", b0, mask_bit | 127, length)
    if mask_key is None:
        return head + payload
    return head + mask_key + bytes(apply_mask(payload, mask_key))
