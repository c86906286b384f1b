"""Frames stored in chunks: one SQLite row holds a run of consecutive frames of a session, column by column.

A row per frame costs SQLite about 2 µs to write, more than receiving the frame costs; a chunk of up to
``CHUNK_FRAMES`` frames costs one row. Each chunk holds, for ``count`` frames with consecutive seqs from its
first: the time stamps (int64), the packed header bits (uint32, the
:data:`~wsinspector.core.model.header.STORED_BITS` of the log's), where each payload ends in the chunk's
payload BLOB (int64), the payloads end to end, and the rare fields (a wire length that differs from the
payload's, a mask key, a note) as JSON. Integers are little-endian whatever the machine.
"""

from __future__ import annotations

import json
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wsinspector.core.model import header

if TYPE_CHECKING:
    from wsinspector.core.session.interface import Columns, FrameColumns

#: most frames in a chunk
CHUNK_FRAMES = 4096
#: most payload bytes in a chunk (a single larger frame gets a chunk of its own)
CHUNK_BYTES = 1 << 20
#: the last chunk of a recording stays open, and is written again with the next flush's frames, while it is
#: smaller than this: a slow feed then makes chunks of this size, not a chunk per flush
OPEN_FRAMES = 256
OPEN_BYTES = 64 * 1024

_HEADER_BITS = header.HEADER_BITS
_LENGTH_IS_PAYLOAD = header.LENGTH_IS_PAYLOAD

_SWAP = sys.byteorder != "little"

#: one stored frame: seq, ts_ns, meta, payload_length, mask_key, note, payload
FrameRow = tuple[int, int, int, "int | None", "bytes | None", "str | None", bytes]
#: the rare fields of one frame: index in its chunk, wire length (None: it is the payload's or unknown), mask
#: key, note
Extra = tuple[int, "int | None", "bytes | None", "str | None"]


def le_bytes(values: array[int]) -> bytes:
    """An array's items as little-endian bytes."""
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def from_le(typecode: str, data: object) -> array[int]:
    """Little-endian items back into an array; a damaged value gives the whole items it holds."""
    values = array(typecode)
    if not isinstance(data, bytes):
        data = b""
    values.frombytes(data[:len(data) - len(data) % values.itemsize])
    if _SWAP:
        values.byteswap()
    return values


def extras_json(extras: Sequence[Extra]) -> str | None:
    if not extras:
        return None
    return json.dumps([[i, length, key.hex() if key is not None else None, note] for i, length, key, note in extras],
                      ensure_ascii=False)


def extras_from_json(text: object) -> dict[int, tuple[int | None, bytes | None, str | None]]:
    """The rare fields of a chunk by frame index; a damaged entry reads as no rare fields."""
    if not text or not isinstance(text, str | bytes):
        return {}
    try:
        return {int(i): (None if length is None else int(length), bytes.fromhex(key) if key is not None else None,
                         None if note is None else str(note))
                for i, length, key, note in json.loads(text)}
    except (ValueError, TypeError, RecursionError):
        return {}


@dataclass(frozen=True, slots=True)
class PackedChunk:
    """A chunk ready to store (see the module's docstring)."""

    first: int
    count: int
    last_ts_ns: int
    ts: bytes
    meta: bytes
    ends: bytes
    payload: bytes | memoryview
    extras: str | None


def pack_columns(source: FrameColumns, first: int, last: int) -> list[PackedChunk]:
    """Frames ``first``..``last`` of a live session packed as chunks: runs of at most CHUNK_FRAMES frames and
    CHUNK_BYTES of payload (a larger frame makes a chunk of its own)."""
    columns = source.columns(first, last + 1)
    offsets, count = columns.offsets, last + 1 - first
    keys = [extra[0] for extra in columns.extras]
    out: list[PackedChunk] = []
    start = 0
    while start < count:
        end = min(start + CHUNK_FRAMES, count)  # exclusive
        # as many frames as fit in CHUNK_BYTES of payload, and at least one
        end = max(start + 1, bisect_right(offsets, offsets[start] + CHUNK_BYTES, start + 1, end + 1) - 1)
        out.append(_pack(columns, keys, start, end))
        start = end
    return out


def _pack(columns: Columns, keys: list[int], start: int, end: int) -> PackedChunk:
    import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

    offsets = columns.offsets
    base, origin = offsets[start], offsets[0]
    metas = header.stored_column(np.frombuffer(columns.meta[start:end], dtype=np.uint32))
    ends = np.frombuffer(offsets[start + 1:end + 1], dtype=np.int64) - base
    run = [(i - start, length, key, note)
           for i, length, key, note in columns.extras[bisect_left(keys, start):bisect_left(keys, end)]]
    payload: bytes | memoryview = columns.payload
    if start or end < len(columns.ts):  # a view of the run's bytes, not a copy
        payload = memoryview(payload)[base - origin:offsets[end] - origin]
    return PackedChunk(columns.first + start, end - start, columns.ts[end - 1], le_bytes(columns.ts[start:end]),
                       metas.astype("<u4").tobytes(), ends.astype("<i8").tobytes(), payload, extras_json(run))


def pack_rows(rows: Sequence[FrameRow]) -> PackedChunk:
    """One chunk of rows with consecutive seqs (the import path and old databases; live recording packs its
    columns with :func:`pack_columns`)."""
    ts, metas, ends = array("q"), array("I"), array("q")
    extras: list[Extra] = []
    payload = bytearray()
    for index, (_seq, ts_ns, meta, length, key, note, data) in enumerate(rows):
        ts.append(ts_ns)
        meta = header.header_and_origin(meta)
        if length is not None and length == len(data):
            meta = header.with_length_is_payload(meta)
            length = None
        if length is not None or key is not None or note:
            extras.append((index, length, key, note or None))
        metas.append(meta)
        payload += data
        ends.append(len(payload))
    return PackedChunk(rows[0][0], len(rows), rows[-1][1], le_bytes(ts), le_bytes(metas), le_bytes(ends),
                       bytes(payload), extras_json(extras))


def runs(rows: Sequence[FrameRow], limit: int = CHUNK_FRAMES,
         max_bytes: int = CHUNK_BYTES) -> Iterator[Sequence[FrameRow]]:
    """``rows`` cut into runs of consecutive seqs, each at most ``limit`` rows and ``max_bytes`` of payload
    (a larger row makes a run of its own)."""
    start = 0
    size = 0
    for index, row in enumerate(rows):
        if index > start and (row[0] != rows[index - 1][0] + 1 or index - start >= limit
                              or size + len(row[6]) > max_bytes):
            yield rows[start:index]
            start, size = index, 0
        size += len(row[6])
    if start < len(rows):
        yield rows[start:]


class Chunk:
    """A stored chunk, decoded: frames ``first`` .. ``first + count - 1``."""

    __slots__ = ("count", "damaged", "ends", "extras", "first", "meta", "payload", "ts")

    def __init__(self, first: int, count: int, ts: object, meta: object, ends: object, payload: object,
                 extras: object) -> None:
        """Any column a damaged file holds in another type or cut short reads as the whole frames it holds."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        self.first = first
        self.ts = from_le("q", ts)
        self.meta = from_le("I", meta)
        self.ends = from_le("q", ends)
        self.payload = payload if isinstance(payload, bytes) else b""
        self.extras = extras_from_json(extras)
        count = max(0, min(count, len(self.ts), len(self.meta), len(self.ends)))
        end_values = np.frombuffer(self.ends, dtype=np.int64, count=count)
        if count and (end_values[0] < 0 or end_values[-1] > len(self.payload)
                      or (end_values[1:] < end_values[:-1]).any()):
            # a damaged file: the frames before the first payload end that goes back or past the payloads
            steps = np.diff(end_values, prepend=0)
            count = int(np.argmax((steps < 0) | (end_values > len(self.payload))))
        self.count = count
        #: the stored integer of each frame whose header is damaged, by index (it reads as header.damaged_meta)
        self.damaged: dict[int, int] = {}
        bad = header.damaged_column(np.frombuffer(self.meta, dtype=np.uint32, count=count))
        if bad.any():
            for index in np.flatnonzero(bad).tolist():
                self.damaged[index] = self.meta[index]
                self.meta[index] = header.damaged_meta(self.meta[index])

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def start(self, index: int) -> int:
        return self.ends[index - 1] if index else 0

    def header(self, index: int) -> int:
        return self.meta[index] & _HEADER_BITS

    def header_and_origin(self, index: int) -> int:
        """The header fields with what sent the frame (``header.ORIGIN_BITS``)."""
        return header.header_and_origin(self.meta[index])

    def size(self, index: int) -> int:
        """The wire length when known, else the payload length (as the timeline's Size column)."""
        start, end = self.start(index), self.ends[index]
        if self.meta[index] & _LENGTH_IS_PAYLOAD:
            return end - start
        extra = self.extras.get(index)
        return extra[0] if extra is not None and extra[0] is not None else end - start

    def payload_of(self, index: int, limit: int | None = None) -> bytes:
        start, end = self.start(index), self.ends[index]
        if limit is not None:
            end = min(end, start + limit)
        return self.payload[start:end]

    def row(self, index: int) -> FrameRow:
        meta = self.meta[index]
        start, end = self.start(index), self.ends[index]
        length, key, note = self.extras.get(index, (None, None, None))
        if meta & _LENGTH_IS_PAYLOAD:
            length = end - start
        if index in self.damaged:
            note = damage_note(self.damaged[index])
        return (self.first + index, self.ts[index], header.header_and_hop(meta), length, key, note,
                self.payload[start:end])

    def indexes(self, first: int, last: int) -> range:
        """The indexes in this chunk of seqs ``first``..``last``."""
        return range(max(first - self.first, 0), min(last - self.first, self.count - 1) + 1)

    def index_at_or_after(self, ts_ns: int) -> int:
        return bisect_left(self.ts, ts_ns, 0, self.count)

    def index_of_offset(self, offset: int) -> int:
        """The index of the frame whose payload holds byte ``offset`` of the chunk's payloads."""
        return bisect_right(self.ends, offset, 0, self.count)


def damage_note(stored: int) -> str:
    """What a reader says of a frame whose stored header is damaged."""
    return f"damaged in the file: its header ({stored:#x}) is not a valid frame's; the payload is shown as stored"


def seqs_in(chunks: Iterable[Chunk], first: int, last: int) -> Iterator[tuple[Chunk, int]]:
    """(chunk, index) of every stored seq in ``first``..``last``, in order."""
    for chunk in chunks:
        for index in chunk.indexes(first, last):
            yield chunk, index
