"""The parts a live log (:mod:`wsinspector.core.log`) holds its frames in, and what it says of frames it let go of.

A log appends to a tail of columns; each flush seals a tail of some size into a block, so that frames leave
memory a whole block at a time, with nothing copied."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from wsinspector.core.frames import Frame, Message, Opcode
from wsinspector.core.model import header
from wsinspector.core.session.interface import Columns
from wsinspector.core.session.messages import FEW_FRAMES

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


_OUT_BIT = header.OUT_BIT


def joined(first: int, parts: list[Part], extras: list[tuple[int, int | None, bytes | None, str | None]]) -> Columns:
    """The frames of ``parts`` (seq ``first`` on) as one run of columns, what the store records; ``extras``: their
    rare fields."""
    if len(parts) == 1:  # the payloads copied once (a slice of a bytearray, then bytes, would be twice)
        _start, ts, metas, offsets, data, lo, hi = parts[0]
        offsets = offsets[lo:hi + 1]
        with memoryview(data) as view:
            payload = bytes(view[offsets[0]:offsets[-1]])
        return Columns(first, ts[lo:hi], metas[lo:hi], offsets, payload, extras)
    import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

    # a run across blocks: their columns end to end, the offsets counted from the run's first payload
    ts_run, meta_run, ends, payloads = array("q"), array("I"), array("q", [0]), []
    for _start, ts, metas, offsets, data, lo, hi in parts:
        ts_run.extend(ts[lo:hi])
        meta_run.extend(metas[lo:hi])
        shift = ends[-1] - offsets[lo]
        if hi - lo <= FEW_FRAMES:
            ends.extend(offset + shift for offset in offsets[lo + 1:hi + 1])
        else:
            ends.frombytes((np.frombuffer(offsets[lo + 1:hi + 1], dtype=np.int64) + shift).tobytes())
        payloads.append(memoryview(data)[offsets[lo]:offsets[hi]])
    payload = b"".join(payloads)
    for view in payloads:
        view.release()
    return Columns(first, ts_run, meta_run, ends, payload, extras)


def counted(parts: list[Part]) -> tuple[int, int, int, int]:
    """(frames in, frames out, payload bytes in, payload bytes out) of the frames of ``parts``."""
    import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

    frames_in = frames_out = bytes_in = bytes_out = 0
    for _start, _ts, metas, offsets, _data, lo, hi in parts:
        if hi - lo <= FEW_FRAMES:
            for index in range(lo, hi):
                size = offsets[index + 1] - offsets[index]
                if metas[index] & _OUT_BIT:
                    frames_out += 1
                    bytes_out += size
                else:
                    frames_in += 1
                    bytes_in += size
            continue
        # copies of the slices: a buffer exported to numpy would stop the arrays from growing
        out = header.out_column(np.frombuffer(metas[lo:hi], dtype=np.uint32))
        sizes = np.diff(np.frombuffer(offsets[lo:hi + 1], dtype=np.int64))
        part_out = int(np.count_nonzero(out))
        part_bytes_out = int(sizes[out].sum())
        frames_in += hi - lo - part_out
        frames_out += part_out
        bytes_in += int(sizes.sum()) - part_bytes_out
        bytes_out += part_bytes_out
    return frames_in, frames_out, bytes_in, bytes_out


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
