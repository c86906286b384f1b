"""The in-memory frame log of a live session: append-only, dense sequence numbers, O(1) append.

Frames are kept in columns, not as objects: a timestamp (8 bytes), a payload offset into a shared
buffer (8 bytes) and the packed header bits (4 bytes) per frame. New frames go to the tail's columns; every
flush seals a tail of some size into a block, so letting old frames go drops whole blocks and copies nothing,
however large the window kept. A large ``bytes`` payload is not copied into the tail's buffer: it becomes a
block of its own, one frame whose payload buffer is that object. Rare fields (a mask key, an engine note,
a wire length that differs from the payload) live in small side tables. ``log[seq]`` rebuilds a
:class:`Frame` on demand; views read single columns through the accessors instead.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import TYPE_CHECKING

from wsinspector.core.frames import Direction, Frame, Message, MessageAssembler, Opcode
from wsinspector.core.latency import PongMatcher
from wsinspector.core.log_parts import Block, Dropped, Part, counted, cut, exactly, joined
from wsinspector.core.model import header
from wsinspector.core.session.interface import Columns
from wsinspector.core.session.messages import MessageStream, starts_in

if TYPE_CHECKING:
    from typing import Protocol

    from wsinspector.core.filters import FrameFilter
    from wsinspector.core.session.interface import Session
    from wsinspector.core.wire.sinks import FrameSink, WholeInSink

    class OlderFrames(Session, Protocol):
        """A reader of the frames a live log recorded (a stored session that is still growing)."""

        def extend(self, count: int) -> None:
            """The recorded session now holds ``count`` frames."""
            ...

# the header module's flags, bound here for the append path
_COMPLETES = header.COMPLETES
_LENGTH_IS_PAYLOAD = header.LENGTH_IS_PAYLOAD
_HEADER_BITS = header.HEADER_BITS
_UPSTREAM = header.UPSTREAM
_OUT_BIT = header.OUT_BIT
_OPCODE_BITS = header.OPCODE_BITS
#: from this many frames on, a scan for the next message reads the packed columns with numpy
_SCAN_COLUMNS = 64
#: the first control opcode
_CONTROL = int(Opcode.CLOSE)
#: text and binary, as bits of an opcode mask (1 << opcode)
_DATA_OPCODES = (1 << Opcode.TEXT) | (1 << Opcode.BINARY)
_TEXT, _BINARY, _CONTINUATION = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION
_IN = Direction.IN
_PING, _PONG = Opcode.PING, Opcode.PONG
#: a tail holding this many payload bytes is sealed as the next frame comes, not only at a flush: growing one
#: buffer by a flood's megabytes between flushes copied all of it again now and then (not looked at on the
#: hottest path, ``append_whole_in``: a frame of ours, or a proxy's other hop, comes often enough)
_TAIL_BYTES = 4 << 20
#: a payload of this many bytes or more is copied out of the log through a memoryview: once, not twice
_VIEW_COPY = 2048
#: a ``bytes`` payload of this many bytes or more is kept as it came, a block of its own, not copied into the
#: tail: the frame a recording proxy forwards is then held once for both hops, and the window's thread copies
#: no large payload at all
OWN_BLOCK = 32 * 1024
#: a tail of this many frames, or of this many payload bytes, is sealed into a block when the window is kept
SEAL_FRAMES = 4096
SEAL_BYTES = 256 * 1024



class FrameLog:
    """Frames of one session in arrival order; ``log[seq]`` is the frame numbered ``seq``. A
    :class:`~wsinspector.core.session.interface.Session`.

    The log also assembles data frames into messages per direction as they arrive, so a fragment can be shown
    with the message it belongs to.
    """

    def __init__(self, started_ns: int | None = None, started_wall: float | None = None) -> None:
        self._ts = array("q")
        self._offsets = array("q", [0])
        self._meta = array("I")
        self._data = bytearray()
        #: the seq of the first frame in memory
        self._base = 0
        #: the seq of the tail's first frame (index 0 of the columns above, which frames are appended to)
        self._tail = 0
        #: sealed blocks of frames before the tail, oldest first, their first seqs and their payload bytes
        self._blocks: list[Block] = []
        self._firsts: list[int] = []
        self._sealed_bytes = 0
        self.seal_frames, self.seal_bytes = SEAL_FRAMES, SEAL_BYTES
        #: frames below _older_end are read back from _older; from there up to _base they were dropped
        self._older: OlderFrames | None = None
        self._older_end = 0
        self._gap = Dropped(self)
        #: the time stamp of the last dropped frame
        self._dropped_ts = 0
        self._payload_length: dict[int, int] = {}
        self._mask_key: dict[int, bytes] = {}
        self._note: dict[int, str] = {}
        #: the seqs that have an entry in _payload_length, _mask_key or _note, in order
        self._extra_seqs = array("q")
        #: fragmented messages by their last seq; each fragment's seq -> that last seq
        self._fragmented: dict[int, Message] = {}
        self._fragment_of: dict[int, int] = {}
        #: opcode (TEXT/BINARY) of the message each continuation frame continues
        self._continues: dict[int, Opcode] = {}
        self._messages = MessageStream()
        self._assemblers = self._messages.assemblers
        self._upstream_assemblers = self._messages.upstream_assemblers
        self._meta_cache: dict[tuple[object, ...], int] = {}
        self._pongs = PongMatcher()
        self._segment_starts: set[int] = set()
        #: (monotonic ns, kind, text) of connection events, in order
        self.events: list[tuple[int, str, str]] = []
        self.started_ns = time.monotonic_ns() if started_ns is None else started_ns
        self.started_wall = time.time() if started_wall is None else started_wall
        self.protocol_errors: list[str] = self._messages.errors
        #: whether an incoming fragmented message is being assembled (whole frames then take the long way)
        self._in_open = False
        #: frames_in, bytes_in and bytes_out, counted up to seq _counted (exclusive) when they are read
        self._counted = 0
        self._frames_in = self._bytes_in = self._bytes_out = 0

    def __len__(self) -> int:
        return self._tail + len(self._ts)

    def __getitem__(self, seq: int) -> Frame:
        if seq < 0:
            seq += len(self)
        if seq < self._base:
            return self._before(seq).frame(seq)
        index, ts, metas, offsets, data = self._at(seq)
        meta = metas[index]
        payload = bytes(data[offsets[index] : offsets[index + 1]])
        fields = header.fields(meta)
        if meta & _LENGTH_IS_PAYLOAD:
            length: int | None = len(payload)
        else:
            length = self._payload_length.get(seq)
        return Frame(seq=seq, ts_ns=ts[index], payload=payload, payload_length=length,
                     mask_key=self._mask_key.get(seq), note=self._note.get(seq, ""), upstream=header.upstream(meta),
                     **fields)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Frame]:
        return self.frames(0, len(self) - 1)

    # -- the window in memory ---------------------------------------------------------------------

    def _at(self, seq: int) -> tuple[int, array[int], array[int], array[int], bytes | bytearray]:
        """(index, time stamps, packed headers, payload offsets, payloads) of the part holding ``seq`` (held)."""
        index = seq - self._tail
        if index >= 0:
            return index, self._ts, self._meta, self._offsets, self._data
        first, ts, metas, offsets, data = self._blocks[bisect_right(self._firsts, seq) - 1]
        return seq - first, ts, metas, offsets, data

    def _parts(self, first: int, end: int) -> list[Part]:
        """The parts holding seqs ``first`` up to ``end`` (exclusive) of the frames held, in order."""
        first, end = max(first, self._base), min(end, len(self))
        parts: list[Part] = []
        if first >= end:
            return parts
        if first < self._tail:
            blocks = self._blocks
            for k in range(bisect_right(self._firsts, first) - 1, len(blocks)):
                start, ts, metas, offsets, data = blocks[k]
                if start >= end:
                    break
                parts.append((start, ts, metas, offsets, data, max(first - start, 0), min(end - start, len(ts))))
        if end > self._tail:
            parts.append((self._tail, self._ts, self._meta, self._offsets, self._data, max(first - self._tail, 0),
                          end - self._tail))
        return parts

    def _seal(self) -> None:
        """The tail becomes a block: its columns are kept as they are, new frames go to new ones."""
        if not self._ts:
            return
        self._blocks.append((self._tail, self._ts, self._meta, self._offsets, self._data))
        self._firsts.append(self._tail)
        self._sealed_bytes += len(self._data)
        self._tail += len(self._ts)
        self._ts, self._meta, self._offsets, self._data = array("q"), array("I"), array("q", [0]), bytearray()

    def _before(self, seq: int) -> Session | Dropped:
        """Where a frame no longer in memory is read: the recorded session, or the dropped frames' stand-in."""
        if seq < self._older_end and self._older is not None:
            return self._older
        if seq < 0:
            raise IndexError(seq)
        return self._gap

    @property
    def first_held(self) -> int:
        """The seq of the first frame held in memory."""
        return self._base

    @property
    def dropped(self) -> range:
        """The seqs of the frames let go of without being recorded: a live view that does not record keeps
        only its newest frames."""
        return range(self._older_end, self._base)

    def read_older_from(self, older: OlderFrames) -> None:
        """Frames recorded from now on, once out of memory, are read back through ``older`` (a reader of the
        session the store records). Call before any frame leaves memory."""
        if self._base == 0:
            self._older = older

    def window_start(self, frames: int, payload_bytes: int) -> int:
        """The first seq of the newest ``frames`` frames that hold at most ``payload_bytes`` of payload (at
        least the newest frame)."""
        total = len(self)
        start = max(self._base, total - frames)
        budget = payload_bytes
        for first, _ts, _metas, offsets, _data, lo, hi in reversed(self._parts(start, total)):
            held = offsets[hi] - offsets[lo]
            if held <= budget:
                budget -= held
                continue
            # the first frame of this part from which on its payloads fit what is left of the budget
            return min(total - 1, first + bisect_left(offsets, offsets[hi] - budget, lo, hi + 1))
        return start

    def keep_window(self, frames: int, payload_bytes: int, releasable: int, stored: int) -> bool:
        """Bound the memory held: once more than twice ``frames`` frames or ``payload_bytes`` of payload are in
        memory, let go of all but the newest ``frames`` frames and ``payload_bytes`` bytes, never a frame at or
        after ``releasable`` (a frame not recorded yet). Frames below ``stored`` are recorded and read back
        through the reader given to :meth:`read_older_from`; the others are dropped. True if frames were let go.

        Called every flush: a tail of more than ``seal_frames`` frames or ``seal_bytes`` bytes is sealed into a
        block first, and frames leave in whole blocks (the block the window starts in stays whole), so this
        copies nothing however large the window."""
        if len(self._ts) >= self.seal_frames or len(self._data) >= self.seal_bytes:
            self._seal()
        if len(self) - self._base <= 2 * frames and self.payload_bytes <= 2 * payload_bytes:
            return False
        upto = min(self.window_start(frames, payload_bytes), releasable)
        if self._base < upto < self._tail:  # the block the window starts in stays whole
            upto = self._firsts[bisect_right(self._firsts, upto) - 1]
        return self.release(upto, stored)

    def release(self, upto: int, stored: int) -> bool:
        """Let go of the frames below ``upto`` from memory (see :meth:`keep_window`). True if any were."""
        upto = min(upto, len(self))
        if upto <= self._base:
            return False
        self._count_up()
        older = self._older
        if older is not None and self._older_end == self._base and stored > self._older_end:
            self._older_end = min(stored, upto)
            older.extend(self._older_end)
        if self._older_end < upto:
            self._dropped_ts = self.ts_ns(upto - 1)
        blocks = self._blocks
        whole = 0
        while whole < len(blocks) and blocks[whole][0] + len(blocks[whole][1]) <= upto:
            self._sealed_bytes -= len(blocks[whole][4])
            whole += 1
        del blocks[:whole], self._firsts[:whole]
        if blocks and blocks[0][0] < upto:  # the rest of a block
            self._sealed_bytes -= len(blocks[0][4])
            blocks[0] = cut(blocks[0], upto)
            self._firsts[0] = upto
            self._sealed_bytes += len(blocks[0][4])
        elif upto > self._tail:  # the rest of the tail
            _first, self._ts, self._meta, self._offsets, rest = cut(
                (self._tail, self._ts, self._meta, self._offsets, self._data), upto)
            self._data = rest if type(rest) is bytearray else bytearray(rest)  # it is: a cut bytearray's rest
            self._tail = upto
        self._base = upto
        self._release_side_tables(upto)
        return True

    def _release_side_tables(self, upto: int) -> None:
        seqs = self._extra_seqs
        cut = bisect_left(seqs, upto)
        for seq in seqs[:cut]:
            self._payload_length.pop(seq, None)
            self._mask_key.pop(seq, None)
            self._note.pop(seq, None)
        self._extra_seqs = seqs[cut:]
        # a message that ends in memory keeps its fragments, even those before it
        self._fragmented = {last: m for last, m in self._fragmented.items() if last >= upto}
        self._fragment_of = {seq: last for seq, last in self._fragment_of.items() if last >= upto}
        self._continues = {seq: op for seq, op in self._continues.items() if seq >= upto}

    # -- fast column access for views -------------------------------------------------------------

    def ts_ns(self, seq: int) -> int:
        index = seq - self._tail
        if index >= 0:
            return self._ts[index]
        if seq < self._base:
            return self._before(seq).ts_ns(seq)
        index, ts, _metas, _offsets, _data = self._at(seq)
        return ts[index]

    def meta(self, seq: int) -> int:
        """The packed header bits of a frame (see :mod:`wsinspector.core.model.header`)."""
        index = seq - self._tail
        if index >= 0:
            return self._meta[index] & _HEADER_BITS
        if seq < self._base:
            return self._before(seq).meta(seq)
        index, _ts, metas, _offsets, _data = self._at(seq)
        return metas[index] & _HEADER_BITS

    def origin(self, seq: int) -> int:
        if seq < self._base:
            return self._before(seq).origin(seq)
        index, _ts, metas, _offsets, _data = self._at(seq)
        return header.origin(metas[index])

    def mark(self, first: int, last: int, flags: int) -> None:
        """Mark frames ``first``..``last`` (ours, just sent and still in memory) with what sent them
        (``header.SCHEDULED`` or ``header.AUTO_REPLY``): the store keeps the mark with the frame."""
        for seq in range(max(first, self._base), min(last + 1, len(self))):
            index, _ts, metas, _offsets, _data = self._at(seq)
            metas[index] = header.with_origin(metas[index], flags)

    def direction(self, seq: int) -> Direction:
        return header.direction(self.meta(seq))

    def opcode(self, seq: int) -> Opcode:
        return header.opcode(self.meta(seq))

    def payload(self, seq: int) -> bytes:
        if seq < self._base:
            return self._before(seq).payload(seq)
        index, _ts, _metas, offsets, data = self._at(seq)
        start, end = offsets[index], offsets[index + 1]
        if type(data) is bytes and end - start == len(data):  # a large payload kept as it came: no copy
            return data
        if end - start < _VIEW_COPY:
            return bytes(data[start:end])
        with memoryview(data) as view:  # copied once (a slice of the bytearray, then bytes, would be twice)
            return bytes(view[start:end])

    def payload_head(self, seq: int, limit: int) -> bytes:
        if seq < self._base:
            return self._before(seq).payload_head(seq, limit)
        index, _ts, _metas, offsets, data = self._at(seq)
        start = offsets[index]
        return bytes(data[start : min(start + limit, offsets[index + 1])])

    def size(self, seq: int) -> int:
        """Wire length when known, else the payload length."""
        if seq < self._base:
            return self._before(seq).size(seq)
        index, _ts, metas, offsets, _data = self._at(seq)
        length = offsets[index + 1] - offsets[index]
        if metas[index] & _LENGTH_IS_PAYLOAD:
            return length
        return self._payload_length.get(seq, length)

    def payload_size(self, seq: int) -> int:
        """The length of the payload as delivered (decompressed)."""
        if seq < self._base:
            return self._before(seq).payload_size(seq)
        index, _ts, _metas, offsets, _data = self._at(seq)
        return offsets[index + 1] - offsets[index]

    def message_starts(self, first: int, last: int) -> array[int]:
        """The seqs in ``first``..``last`` that start a row of the message view (every frame but a
        continuation); the recorded frames out of memory are read from the store's header columns, dropped
        frames start none."""
        first, last = max(first, 0), min(last, len(self) - 1)
        out = array("q")
        if first > last:
            return out
        if first < self._older_end and self._older is not None:
            out.extend(self._older.message_starts(first, min(last, self._older_end - 1)))
        for start, _ts, metas, _offsets, _data, lo, hi in self._parts(first, last + 1):
            out.extend(starts_in(start + lo, metas[lo:hi]))
        return out

    def note(self, seq: int) -> str:
        if seq < self._base:
            return self._before(seq).note(seq)
        return self._note.get(seq, "")

    def frame(self, seq: int) -> Frame:
        return self[seq]

    def frames(self, first: int, last: int) -> Iterator[Frame]:
        """Frames ``first``..``last`` (inclusive), in order."""
        first = max(first, 0)
        if first < self._older_end and self._older is not None:
            yield from self._older.frames(first, min(last, self._older_end - 1))
            first = self._older_end
        for seq in range(first, min(last, len(self) - 1) + 1):
            yield self[seq]

    def scan(self, first: int, last: int) -> Iterator[tuple[int, int, bytes]]:
        """(seq, meta, payload) of frames ``first``..``last``, for filters and find (dropped frames are not
        there to find)."""
        if first < self._older_end and self._older is not None:
            yield from self._older.scan(max(first, 0), min(last, self._older_end - 1))
        for seq in range(max(first, self._base), min(last, len(self) - 1) + 1):
            yield seq, self.meta(seq), self.payload(seq)

    def match_seqs(self, flt: FrameFilter, first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` that ``flt`` lets through. Raises FilterError on a bad regex."""
        match = flt.matcher()
        seqs: list[int] = []
        if first < self._older_end and self._older is not None:
            seqs = self._older.match_seqs(flt, max(first, 0), min(last, self._older_end - 1))
        held = range(max(first, self._base), min(last, len(self) - 1) + 1)
        if flt.is_empty():
            seqs.extend(held)
        else:
            seqs.extend(seq for seq, meta, payload in self.scan(held.start, held.stop - 1) if match(meta, payload))
        return seqs

    def columns(self, first: int, end: int) -> Columns:
        """Frames ``first`` up to ``end`` (exclusive), all in memory, as columns: what the store reads to record
        them."""
        extras: list[tuple[int, int | None, bytes | None, str | None]] = []
        seqs = self._extra_seqs
        for k in range(bisect_left(seqs, first), bisect_left(seqs, end)):
            seq = seqs[k]
            extras.append((seq - first, self._payload_length.get(seq), self._mask_key.get(seq), self._note.get(seq)))
        return joined(first, self._parts(first, end), extras)

    def counts(self, first: int, last: int) -> tuple[int, int, int, int]:
        """(frames in, frames out, payload bytes in, payload bytes out) of frames ``first``..``last``, all in
        memory."""
        return counted(self._parts(first, last + 1))

    def _count_up(self) -> None:
        end = len(self)
        if end > self._counted:
            frames_in, _frames_out, bytes_in, bytes_out = self.counts(self._counted, end - 1)
            self._frames_in += frames_in
            self._bytes_in += bytes_in
            self._bytes_out += bytes_out
            self._counted = end

    @property
    def frames_in(self) -> int:
        self._count_up()
        return self._frames_in

    @property
    def bytes_in(self) -> int:
        self._count_up()
        return self._bytes_in

    @property
    def bytes_out(self) -> int:
        self._count_up()
        return self._bytes_out

    @property
    def payload_bytes(self) -> int:
        """Payload bytes held in memory."""
        return self._sealed_bytes + len(self._data)

    def payload_bytes_from(self, seq: int) -> int:
        """Payload bytes of the frames from ``seq`` on that are held in memory."""
        return sum(offsets[hi] - offsets[lo] for _s, _t, _m, offsets, _d, lo, hi in self._parts(seq, len(self)))

    def nbytes(self) -> int:
        """Memory held beyond the payloads themselves (columns and side tables), in bytes."""
        parts = [*self._blocks, (self._tail, self._ts, self._meta, self._offsets, self._data)]
        columns = sum(a.itemsize * a.buffer_info()[1] for part in parts for a in part[1:4])
        side = 100 * (len(self._payload_length) + len(self._mask_key) + len(self._note) + len(self._continues)
                      + len(self._fragment_of)) + 200 * len(self._fragmented)
        return columns + side + sum(part[4].__sizeof__() - len(part[4]) for part in parts)

    # -- appending --------------------------------------------------------------------------------

    def append(self, frame: Frame) -> int:
        """Number the frame and keep it; returns its seq."""
        return self.append_fields(frame.direction, frame.opcode, frame.payload, frame.ts_ns, frame.fin,
                                  frame.rsv1, frame.rsv2, frame.rsv3, frame.masked, frame.payload_length,
                                  frame.mask_key, frame.note)

    def append_fields(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                      rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                      masked: bool | None = None, payload_length: int | None = None,
                      mask_key: bytes | None = None, note: str = "", hop: int = 0) -> int:
        """Keep a frame given by its fields (no Frame object needed: the engines' hot path); returns its seq.
        ``hop``: ``header.UPSTREAM`` for a frame of a recording proxy's upstream hop (see :meth:`upstream_sinks`)."""
        seq = self._tail + len(self._ts)
        key = (direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        meta = self._meta_cache.get(key)
        if meta is None:
            meta = self._meta_cache[key] = header.pack(direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        if hop:
            meta |= hop & _UPSTREAM
        if payload_length is not None and payload_length == len(payload):
            meta |= _LENGTH_IS_PAYLOAD
            payload_length = None
        if payload_length is not None or mask_key is not None or note:
            self._keep_rare(seq, payload_length, mask_key, note)
        if opcode is _PING or opcode is _PONG:
            self._track_ping(seq, direction, opcode, payload, ts_ns)
        elif opcode is _TEXT or opcode is _BINARY or opcode is _CONTINUATION:
            assembler = (self._upstream_assemblers if hop else self._assemblers)[direction]
            if fin is not False and opcode is not _CONTINUATION and assembler.current_opcode is None:
                meta |= _COMPLETES  # a whole message in one frame, the common case: nothing else to keep
            else:
                meta |= self._assemble(assembler, direction, opcode, fin, seq, payload)
                if direction is _IN and not hop:
                    self._in_open = assembler.current_opcode is not None
        if len(payload) >= OWN_BLOCK and type(payload) is bytes:
            self._own_block(ts_ns, meta, payload)
            return seq
        if len(self._data) >= _TAIL_BYTES:
            self._seal()
        self._ts.append(ts_ns)
        self._meta.append(meta)
        self._data += payload
        self._offsets.append(len(self._data))
        return seq

    def _own_block(self, ts_ns: int, meta: int, payload: bytes) -> None:
        """Keep the next frame, whose payload is large, as a block of its own holding ``payload`` itself."""
        self._seal()
        first = self._tail
        self._blocks.append((first, array("q", (ts_ns,)), array("I", (meta,)), array("q", (0, len(payload))), payload))
        self._firsts.append(first)
        self._sealed_bytes += len(payload)
        self._tail = first + 1

    def _keep_rare(self, seq: int, payload_length: int | None, mask_key: bytes | None, note: str) -> None:
        """The rare fields of frame ``seq``: a wire length that is not the payload's, a mask key, a note."""
        if payload_length is not None:
            self._payload_length[seq] = payload_length
        if mask_key is not None:
            self._mask_key[seq] = mask_key
        if note:
            self._note[seq] = note
        self._extra_seqs.append(seq)

    def append_whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        """Keep an incoming frame that is a whole message, ``meta`` from
        :func:`~wsinspector.core.model.header.whole_in`: the engines' hottest path, a few appends."""
        if self._in_open:  # it interrupts a fragmented message: let the assembler say so
            self.append_fields(*header.whole_in_fields(meta, payload, ts_ns))  # type: ignore[arg-type]
            return
        if len(payload) >= OWN_BLOCK and type(payload) is bytes:
            self._own_block(ts_ns, meta, payload)
            return
        self._ts.append(ts_ns)
        self._meta.append(meta)
        self._data += payload
        self._offsets.append(len(self._data))

    def upstream_sinks(self) -> tuple[FrameSink, WholeInSink]:
        """The sinks an engine of a recording proxy's upstream hop reports its frames through: they are kept in
        this log, in order with the client hop's, marked ``header.UPSTREAM`` and assembled into messages apart
        from the client hop's."""
        def sink(direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                 rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                 masked: bool | None = None, payload_length: int | None = None, mask_key: bytes | None = None,
                 note: str = "") -> int:
            return self.append_fields(direction, opcode, payload, ts_ns, fin, rsv1, rsv2, rsv3, masked,
                                      payload_length, mask_key, note, _UPSTREAM)

        def whole_in(meta: int, payload: bytes, ts_ns: int) -> int:
            if self._upstream_assemblers[_IN].current_opcode is not None:  # it interrupts a fragmented message
                return sink(*header.whole_in_fields(meta, payload, ts_ns))  # type: ignore[arg-type]
            seq = self._tail + len(self._ts)  # a whole message, as append_whole_in keeps one
            if len(payload) >= OWN_BLOCK and type(payload) is bytes:
                self._own_block(ts_ns, meta | _UPSTREAM, payload)
                return seq
            if len(self._data) >= _TAIL_BYTES:
                self._seal()
            self._ts.append(ts_ns)
            self._meta.append(meta | _UPSTREAM)
            self._data += payload
            self._offsets.append(len(self._data))
            return seq

        return sink, whole_in

    def _track_ping(self, seq: int, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int) -> None:
        if opcode is _PING and direction is not _IN:
            self._pongs.ping_sent(seq, payload, ts_ns)
        elif opcode is _PONG and direction is _IN:
            self._pongs.pong_received(seq, payload, ts_ns)

    def rtt_ns(self, seq: int) -> int | None:
        """For an incoming pong: the time since the ping it answered (None if it answered none)."""
        return self._pongs.rtt.get(seq)

    @property
    def rtt_samples(self) -> list[tuple[int, int, int]]:
        """(pong seq, pong monotonic ns, rtt ns) of every answered ping so far, in order (do not modify)."""
        return self._pongs.samples

    def oldest_open_ping_ns(self) -> int | None:
        """When the oldest outgoing ping still waiting for its pong was sent (None: none is waiting)."""
        return self._pongs.oldest_open_ns()

    def is_unsolicited(self, seq: int) -> bool:
        rtt = self._pongs.rtt
        return seq in rtt and rtt[seq] is None

    def _assemble(self, assembler: MessageAssembler, direction: Direction, opcode: Opcode, fin: bool | None,
                  seq: int, payload: bytes) -> int:
        if opcode is _CONTINUATION and assembler.current_opcode is not None:
            self._continues[seq] = assembler.current_opcode
        message = self._messages.feed(direction, opcode, fin, seq, payload, assembler.upstream)
        if message is None:
            return 0
        if message.frame_count > 1:
            self._fragmented[seq] = message
            for part in message.seqs:
                self._fragment_of[part] = seq
        return _COMPLETES

    # -- messages ---------------------------------------------------------------------------------

    def incoming_so_far(self, upstream: bool = False) -> tuple[Opcode, list[bytes]] | None:
        """The fragments read so far of the incoming message under way on the client hop (or a recording
        proxy's ``upstream`` hop), with its opcode; None when no message is under way."""
        return self._messages.assembler(_IN, upstream).so_far()

    def message_for(self, seq: int) -> Message | None:
        """The complete message a data frame belongs to (None while it is still being received)."""
        if not 0 <= seq < len(self):
            return None
        last = self._fragment_of.get(seq)
        if last is not None:
            return self._fragmented[last]
        if seq < self._base:
            return self._before(seq).message_for(seq)
        index, _ts, metas, _offsets, _data = self._at(seq)
        meta = metas[index]
        if not meta & _COMPLETES:
            return None
        return Message(header.direction(meta), header.opcode(meta), self.payload(seq), seq, seq, 1, (seq,),
                       header.upstream(meta))

    def next_incoming(self, seq: int, end: int, wanted: int, counted: int,
                      length: int = -1, exact: bytes | None = None) -> tuple[int, int, int]:
        """The next incoming message from ``seq`` on, before ``end``, that a waiting reader asks for: a
        complete data message or a control frame whose opcode is in the bit mask ``wanted`` (bit ``1 <<
        opcode``; a fragmented message is always given) and, for a whole text or binary message, of exactly
        ``length`` bytes (-1: any) and equal to ``exact`` (None: any). Returns (its seq, or ``end`` when none;
        how many messages of the ``counted`` opcodes it passed over; the seq of the last of those, or -1). One
        pass over the packed headers: no payload is copied for the messages passed over."""
        if exact is not None:
            length = len(exact)
        passed, last = 0, -1
        for start, _ts, metas, offsets, data, lo, hi in self._parts(seq, end):
            found, part_passed, part_last = self._next_incoming_in(start, metas, offsets, data, start + lo,
                                                                   start + hi, wanted, counted, length, exact)
            passed += part_passed
            last = max(last, part_last)
            if found < start + hi:
                return found, passed, last
        return end, passed, last

    def _next_incoming_in(self, start: int, metas: array[int], offsets: array[int], data: bytes | bytearray, seq: int,
                          end: int, wanted: int, counted: int, length: int,
                          exact: bytes | None) -> tuple[int, int, int]:
        """:meth:`next_incoming` over seqs ``seq`` up to ``end`` of one part (its first frame ``start``)."""
        if end - seq >= _SCAN_COLUMNS and not self._fragmented_between(seq, end):
            return self._next_incoming_columns(start, metas, offsets, data, seq, end, wanted, counted, length,
                                               exact)
        fragment_of = self._fragment_of
        passed, last = 0, -1
        while seq < end:
            meta = metas[seq - start]
            op = meta & _OPCODE_BITS
            if meta & _OUT_BIT or (op < _CONTROL and not meta & _COMPLETES):
                seq += 1  # ours, or a fragment that does not complete its message
                continue
            bit = 1 << op
            if seq in fragment_of:
                return seq, passed, last
            if bit & wanted:
                if length < 0 or not bit & _DATA_OPCODES:
                    return seq, passed, last
                begin = offsets[seq - start]
                if offsets[seq - start + 1] - begin == length and (exact is None or data.startswith(exact, begin)):
                    return seq, passed, last
            if bit & counted:
                passed += 1
                last = seq
            seq += 1
        return end, passed, last

    def _fragmented_between(self, first: int, end: int) -> bool:
        return any(first <= last < end for last in self._fragmented)

    def _next_incoming_columns(self, start: int, metas_part: array[int], offsets_part: array[int],
                               data: bytes | bytearray, seq: int, end: int, wanted: int, counted: int, length: int,
                               exact: bytes | None) -> tuple[int, int, int]:
        """:meth:`next_incoming` over many frames of one part with no fragmented message among them, on the
        columns."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        # copies of the slices: a buffer exported to numpy would stop the arrays from growing
        metas = np.frombuffer(metas_part[seq - start:end - start], dtype=np.uint32)
        ops = header.opcode_column(metas)
        bits = np.left_shift(np.uint32(1), ops)
        control = ops >= Opcode.CLOSE
        message = ~header.out_column(metas) & (control | header.completes_column(metas))
        asked = message & ((bits & np.uint32(wanted)) != 0)
        if length >= 0:
            offsets = np.frombuffer(offsets_part[seq - start:end - start + 1], dtype=np.int64)
            data_op = (bits & np.uint32(_DATA_OPCODES)) != 0
            asked &= ~data_op | (np.diff(offsets) == length)
            if exact is not None and length > 0:
                asked = exactly(asked, data_op, offsets, data, exact)
        found = np.flatnonzero(asked)
        first = int(found[0]) if found.size else end - seq
        passing = np.flatnonzero(message[:first] & ((bits[:first] & np.uint32(counted)) != 0))
        last = seq + int(passing[-1]) if passing.size else -1
        return seq + first, int(passing.size), last

    def iter_messages(self) -> Iterator[Message]:
        """Every complete message in the order it completed (but those of dropped frames)."""
        if self._older is not None and self._older_end:
            for message in self._older.iter_messages():
                if message.last_seq >= self._older_end:
                    break
                yield message
        for start, _ts, metas, _offsets, _data, lo, hi in self._parts(self._base, len(self)):
            for index in range(lo, hi):
                if metas[index] & _COMPLETES:
                    complete = self.message_for(start + index)
                    assert complete is not None
                    yield complete

    @property
    def messages(self) -> list[Message]:
        """Every complete message in the order it completed (built on demand: O(n))."""
        return list(self.iter_messages())

    def data_opcode(self, seq: int) -> Opcode:
        """TEXT or BINARY for a data frame (a continuation takes its message's), else the frame's own opcode."""
        if seq < self._base:
            return self._before(seq).data_opcode(seq)
        index, _ts, metas, _offsets, _data = self._at(seq)
        opcode = header.opcode(metas[index])
        if opcode is Opcode.CONTINUATION:
            return self._continues.get(seq, Opcode.CONTINUATION)
        return opcode

    def relative_us(self, frame: Frame | int) -> float:
        ts = frame.ts_ns if isinstance(frame, Frame) else self.ts_ns(frame)
        return (ts - self.started_ns) / 1000.0

    def seq_at_or_after(self, ts_ns: int) -> int:
        """The first seq stamped at or after ``ts_ns`` (len(self) when none): timestamps never decrease."""
        if self._older is not None and self._older_end:
            seq = self._older.seq_at_or_after(ts_ns)
            if seq < self._older_end:
                return seq
        seq = len(self)
        for start, ts, _metas, _offsets, _data, lo, hi in self._parts(self._base, seq):
            if ts[hi - 1] >= ts_ns:
                seq = start + bisect_left(ts, ts_ns, lo, hi)
                break
        if seq == self._base and self._older_end < self._base and ts_ns <= self._dropped_ts:
            return self._older_end
        return seq

    def new_segment(self) -> None:
        """A new connection starts within the same log: unfinished fragments and open pings are dropped, and
        the next frame is marked as the first of the new connection."""
        self._messages.reset()
        self._in_open = False
        self._pongs.reset()
        self._segment_starts.add(len(self))

    def starts_segment(self, seq: int) -> bool:
        """Is this the first frame after a reconnect?"""
        return seq in self._segment_starts

    def add_event(self, ts_ns: int, kind: str, text: str) -> int:
        """Something that happened to the connection between frames: disconnect, reconnect, timeout.
        Returns the seq the next frame will get."""
        self.events.append((ts_ns, kind, text))
        return len(self)
