"""The parts a live log (:mod:`wsinspector.core.log`) holds its frames in, and what it says of frames it let go of.

A log appends to a tail of columns; each flush seals a tail of some size into a block, so that frames leave
memory a whole block at a time, with nothing copied."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from wsinspector.core.frames import Frame, Message, Opcode
from wsinspector.core.model import header

if TYPE_CHECKING:
    from wsinspector.core.log import FrameLog

#: a sealed block of frames: (seq of its first frame, time stamps, packed headers, payload offsets from 0, payloads)
Block = tuple[int, "array[int]", "array[int]", "array[int]", bytes | bytearray]
#: a part of the frames held that a range covers: (seq of the part's first frame, time stamps, packed headers,
#: payload offsets, payloads, first index in the range, index after the last)
Part = tuple[int, "array[int]", "array[int]", "array[int]", bytes | bytearray, int, int]


def cut(block: Block, upto: int) -> Block:
    """The frames of ``block`` from seq ``upto`` on (a copy of that many frames' columns)."""
    first, ts, metas, offsets, data = block
    index = upto - first
    begin = offsets[index]
    rest = offsets[index:]
    if begin:
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        rest = array("q", (np.frombuffer(rest, dtype=np.int64) - begin).tobytes())
    return upto, ts[index:], metas[index:], rest, data[begin:]


def exactly(asked: Any, data_op: Any, offsets: Any, data: bytes | bytearray, exact: bytes) -> Any:
    """``asked`` less the text and binary messages whose payload is not ``exact`` (of its length already):
    compared byte by byte on the candidates left, the last few whole."""
    import numpy as np  # noqa: PLC0415

    candidates = np.flatnonzero(asked & data_op)
    base = int(offsets[0])
    chunk = np.frombuffer(bytes(data[base:int(offsets[-1])]), dtype=np.uint8)
    starts = offsets[candidates] - base
    for index, byte in enumerate(exact):
        if candidates.size <= 4:
            break
        keep = chunk[starts + index] == byte
        candidates, starts = candidates[keep], starts[keep]
    equal = [int(c) for c, start in zip(candidates, starts, strict=True) if data.startswith(exact, int(base + start))]
    asked = asked & ~data_op
    asked[equal] = True
    return asked


class Dropped:
    """What a log says of a frame it let go of without recording it: an empty data frame of no direction's,
    stamped when the last dropped frame was."""

    def __init__(self, log: FrameLog) -> None:
        self._log = log

    def ts_ns(self, seq: int) -> int:
        return self._log._dropped_ts

    def meta(self, seq: int) -> int:
        return 0

    def origin(self, seq: int) -> int:
        return 0

    def size(self, seq: int) -> int:
        return 0

    def payload_size(self, seq: int) -> int:
        return 0

    def payload(self, seq: int) -> bytes:
        return b""

    def payload_head(self, seq: int, limit: int) -> bytes:
        return b""

    def note(self, seq: int) -> str:
        return "dropped: not recorded"

    def frame(self, seq: int) -> Frame:
        return Frame(seq=seq, ts_ns=self.ts_ns(seq), payload=b"", note=self.note(seq), **header.fields(0))  # type: ignore[arg-type]

    def data_opcode(self, seq: int) -> Opcode:
        return header.opcode(0)

    def message_for(self, seq: int) -> Message | None:
        return None
