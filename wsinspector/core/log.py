"""The in-memory frame log of a live session: append-only, dense sequence numbers, O(1) append.

Frames are kept in columns, not as objects: a timestamp (8 bytes), a payload offset into one shared
buffer (8 bytes) and the packed header bits (4 bytes) per frame. Rare fields (a mask key, an engine note,
a wire length that differs from the payload) live in small side tables. ``log[seq]`` rebuilds a
:class:`Frame` on demand; views read single columns through the accessors instead.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wsinspector.core.frames import Direction, Frame, Message, MessageAssembler, Opcode
from wsinspector.core.latency import PongMatcher
from wsinspector.core.model import header
from wsinspector.core.session.interface import Columns
from wsinspector.core.session.messages import MessageStream, starts_in

if TYPE_CHECKING:
    from typing import Protocol

    from wsinspector.core.filters import FrameFilter
    from wsinspector.core.session.interface import Session

    class OlderFrames(Session, Protocol):
        """A reader of the frames a live log recorded (a stored session that is still growing)."""

        def extend(self, count: int) -> None:
            """The recorded session now holds ``count`` frames."""
            ...

# the header module's flags, bound here for the append path
_COMPLETES = header.COMPLETES
_LENGTH_IS_PAYLOAD = header.LENGTH_IS_PAYLOAD
_HEADER_BITS = header.HEADER_BITS
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
        #: the seq of the first frame in memory (index 0 of the columns)
        self._base = 0
        #: frames below _older_end are read back from _older; from there up to _base they were dropped
        self._older: OlderFrames | None = None
        self._older_end = 0
        self._gap = _Dropped(self)
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
        return self._base + len(self._ts)

    def __getitem__(self, seq: int) -> Frame:
        if seq < 0:
            seq += len(self)
        if seq < self._base:
            return self._before(seq).frame(seq)
        index = seq - self._base
        meta = self._meta[index]
        payload = bytes(self._data[self._offsets[index] : self._offsets[index + 1]])
        fields = header.fields(meta)
        if meta & _LENGTH_IS_PAYLOAD:
            length: int | None = len(payload)
        else:
            length = self._payload_length.get(seq)
        return Frame(seq=seq, ts_ns=self._ts[index], payload=payload, payload_length=length,
                     mask_key=self._mask_key.get(seq), note=self._note.get(seq, ""), **fields)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Frame]:
        return self.frames(0, len(self) - 1)

    # -- the window in memory ---------------------------------------------------------------------

    def _before(self, seq: int) -> Session | _Dropped:
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
        held = len(self._ts)
        start = max(0, held - frames)
        end = self._offsets[held]
        if end - self._offsets[start] > payload_bytes:
            start = min(held - 1, bisect_left(self._offsets, end - payload_bytes, start))
        return self._base + max(start, 0)

    def keep_window(self, frames: int, payload_bytes: int, releasable: int, stored: int) -> bool:
        """Bound the memory held: once more than twice ``frames`` frames or ``payload_bytes`` of payload are in
        memory, let go of all but the newest ``frames`` frames and ``payload_bytes`` bytes, never a frame at or
        after ``releasable`` (a frame not recorded yet). Frames below ``stored`` are recorded and read back
        through the reader given to :meth:`read_older_from`; the others are dropped. True if frames were let go."""
        if len(self._ts) <= 2 * frames and len(self._data) <= 2 * payload_bytes:
            return False
        return self.release(min(self.window_start(frames, payload_bytes), releasable), stored)

    def release(self, upto: int, stored: int) -> bool:
        """Let go of the frames below ``upto`` from memory (see :meth:`keep_window`). True if any were."""
        upto = min(upto, len(self))
        count = upto - self._base
        if count <= 0:
            return False
        self._count_up()
        older = self._older
        if older is not None and self._older_end == self._base and stored > self._older_end:
            self._older_end = min(stored, upto)
            older.extend(self._older_end)
        if self._older_end < upto:
            self._dropped_ts = self._ts[count - 1]
        start = self._offsets[count]
        self._ts = self._ts[count:]
        self._meta = self._meta[count:]
        offsets = self._offsets[count:]
        if start:
            import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

            offsets = array("q", (np.frombuffer(offsets, dtype=np.int64) - start).tobytes())
        self._offsets = offsets
        self._data = self._data[start:]
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
        if seq < self._base:
            return self._before(seq).ts_ns(seq)
        return self._ts[seq - self._base]

    def meta(self, seq: int) -> int:
        """The packed header bits of a frame (see :mod:`wsinspector.core.model.header`)."""
        if seq < self._base:
            return self._before(seq).meta(seq)
        return self._meta[seq - self._base] & _HEADER_BITS

    def origin(self, seq: int) -> int:
        if seq < self._base:
            return self._before(seq).origin(seq)
        return header.origin(self._meta[seq - self._base])

    def mark(self, first: int, last: int, flags: int) -> None:
        """Mark frames ``first``..``last`` (ours, just sent and still in memory) with what sent them
        (``header.SCHEDULED`` or ``header.AUTO_REPLY``): the store keeps the mark with the frame."""
        for index in range(max(first, self._base) - self._base, last + 1 - self._base):
            self._meta[index] = header.with_origin(self._meta[index], flags)

    def direction(self, seq: int) -> Direction:
        return header.direction(self.meta(seq))

    def opcode(self, seq: int) -> Opcode:
        return header.opcode(self.meta(seq))

    def payload(self, seq: int) -> bytes:
        if seq < self._base:
            return self._before(seq).payload(seq)
        index = seq - self._base
        return bytes(self._data[self._offsets[index] : self._offsets[index + 1]])

    def payload_head(self, seq: int, limit: int) -> bytes:
        if seq < self._base:
            return self._before(seq).payload_head(seq, limit)
        index = seq - self._base
        start = self._offsets[index]
        return bytes(self._data[start : min(start + limit, self._offsets[index + 1])])

    def size(self, seq: int) -> int:
        """Wire length when known, else the payload length."""
        if seq < self._base:
            return self._before(seq).size(seq)
        index = seq - self._base
        length = self._offsets[index + 1] - self._offsets[index]
        if self._meta[index] & _LENGTH_IS_PAYLOAD:
            return length
        return self._payload_length.get(seq, length)

    def payload_size(self, seq: int) -> int:
        """The length of the payload as delivered (decompressed)."""
        if seq < self._base:
            return self._before(seq).payload_size(seq)
        index = seq - self._base
        return self._offsets[index + 1] - self._offsets[index]

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
        lo = max(first, self._base)
        if lo <= last:
            out.extend(starts_in(lo, self._meta[lo - self._base : last - self._base + 1]))
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
        base = self._base
        offsets = self._offsets[first - base:end - base + 1]
        return Columns(first, self._ts[first - base:end - base], self._meta[first - base:end - base], offsets,
                       bytes(self._data[offsets[0]:offsets[-1]]), extras)

    def counts(self, first: int, last: int) -> tuple[int, int, int, int]:
        """(frames in, frames out, payload bytes in, payload bytes out) of frames ``first``..``last``, all in
        memory."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        if last < first:
            return 0, 0, 0, 0
        first -= self._base
        last -= self._base
        # copies of the slices: a buffer exported to numpy would stop the arrays from growing
        out = header.out_column(np.frombuffer(self._meta[first:last + 1], dtype=np.uint32))
        sizes = np.diff(np.frombuffer(self._offsets[first:last + 2], dtype=np.int64))
        frames_out = int(np.count_nonzero(out))
        bytes_out = int(sizes[out].sum())
        return last + 1 - first - frames_out, frames_out, int(sizes.sum()) - bytes_out, bytes_out

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
        return len(self._data)

    def payload_bytes_from(self, seq: int) -> int:
        """Payload bytes of the frames from ``seq`` on that are held in memory."""
        index = min(max(seq - self._base, 0), len(self._ts))
        return len(self._data) - self._offsets[index]

    def nbytes(self) -> int:
        """Memory held beyond the payloads themselves (columns and side tables), in bytes."""
        columns = sum(a.itemsize * a.buffer_info()[1] for a in (self._ts, self._offsets, self._meta))
        side = 100 * (len(self._payload_length) + len(self._mask_key) + len(self._note) + len(self._continues)
                      + len(self._fragment_of)) + 200 * len(self._fragmented)
        return columns + side + (self._data.__sizeof__() - len(self._data))

    # -- appending --------------------------------------------------------------------------------

    def append(self, frame: Frame) -> int:
        """Number the frame and keep it; returns its seq."""
        return self.append_fields(frame.direction, frame.opcode, frame.payload, frame.ts_ns, frame.fin,
                                  frame.rsv1, frame.rsv2, frame.rsv3, frame.masked, frame.payload_length,
                                  frame.mask_key, frame.note)

    def append_fields(self, direction: Direction, opcode: Opcode, payload: bytes, ts_ns: int, fin: bool | None,
                      rsv1: bool | None = None, rsv2: bool | None = None, rsv3: bool | None = None,
                      masked: bool | None = None, payload_length: int | None = None,
                      mask_key: bytes | None = None, note: str = "") -> int:
        """Keep a frame given by its fields (no Frame object needed: the engines' hot path); returns its seq."""
        seq = self._base + len(self._ts)
        key = (direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        meta = self._meta_cache.get(key)
        if meta is None:
            meta = self._meta_cache[key] = header.pack(direction, opcode, fin, rsv1, rsv2, rsv3, masked)
        if payload_length is not None:
            if payload_length == len(payload):
                meta |= _LENGTH_IS_PAYLOAD
            else:
                self._payload_length[seq] = payload_length
        if mask_key is not None:
            self._mask_key[seq] = mask_key
        if note:
            self._note[seq] = note
        if seq in self._payload_length or mask_key is not None or note:
            self._extra_seqs.append(seq)
        if opcode is _PING or opcode is _PONG:
            self._track_ping(seq, direction, opcode, payload, ts_ns)
        elif opcode is _TEXT or opcode is _BINARY or opcode is _CONTINUATION:
            assembler = self._assemblers[direction]
            if fin is not False and opcode is not _CONTINUATION and assembler.current_opcode is None:
                meta |= _COMPLETES  # a whole message in one frame, the common case: nothing else to keep
            else:
                meta |= self._assemble(assembler, direction, opcode, fin, seq, payload)
                if direction is _IN:
                    self._in_open = assembler.current_opcode is not None
        self._ts.append(ts_ns)
        self._meta.append(meta)
        self._data += payload
        self._offsets.append(len(self._data))
        return seq

    def append_whole_in(self, meta: int, payload: bytes, ts_ns: int) -> None:
        """Keep an incoming frame that is a whole message, ``meta`` from
        :func:`~wsinspector.core.model.header.whole_in`: the engines' hottest path, a few appends."""
        if self._in_open:  # it interrupts a fragmented message: let the assembler say so
            self.append_fields(*header.whole_in_fields(meta, payload, ts_ns))  # type: ignore[arg-type]
            return
        self._ts.append(ts_ns)
        self._meta.append(meta)
        self._data += payload
        self._offsets.append(len(self._data))

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
        message = self._messages.feed(direction, opcode, fin, seq, payload)
        if message is None:
            return 0
        if message.frame_count > 1:
            self._fragmented[seq] = message
            for part in message.seqs:
                self._fragment_of[part] = seq
        return _COMPLETES

    # -- messages ---------------------------------------------------------------------------------

    def message_for(self, seq: int) -> Message | None:
        """The complete message a data frame belongs to (None while it is still being received)."""
        if not 0 <= seq < len(self):
            return None
        last = self._fragment_of.get(seq)
        if last is not None:
            return self._fragmented[last]
        if seq < self._base:
            return self._before(seq).message_for(seq)
        meta = self._meta[seq - self._base]
        if not meta & _COMPLETES:
            return None
        return Message(header.direction(meta), header.opcode(meta), self.payload(seq), seq, seq, 1, (seq,))

    def next_incoming(self, seq: int, end: int, wanted: int, counted: int,
                      length: int = -1, exact: bytes | None = None) -> tuple[int, int, int]:
        """The next incoming message from ``seq`` on, before ``end``, that a waiting reader asks for: a
        complete data message or a control frame whose opcode is in the bit mask ``wanted`` (bit ``1 <<
        opcode``; a fragmented message is always given) and, for a whole text or binary message, of exactly
        ``length`` bytes (-1: any) and equal to ``exact`` (None: any). Returns (its seq, or ``end`` when none;
        how many messages of the ``counted`` opcodes it passed over; the seq of the last of those, or -1). One
        pass over the packed headers: no payload is copied for the messages passed over."""
        metas, offsets, fragment_of, data = self._meta, self._offsets, self._fragment_of, self._data
        if exact is not None:
            length = len(exact)
        if end - seq >= _SCAN_COLUMNS and not self._fragmented_between(seq, end):
            return self._next_incoming_columns(seq, end, wanted, counted, length, exact)
        passed, last = 0, -1
        while seq < end:
            meta = metas[seq]
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
                start = offsets[seq]
                if offsets[seq + 1] - start == length and (exact is None or data.startswith(exact, start)):
                    return seq, passed, last
            if bit & counted:
                passed += 1
                last = seq
            seq += 1
        return end, passed, last

    def _fragmented_between(self, first: int, end: int) -> bool:
        return any(first <= last < end for last in self._fragmented)

    def _next_incoming_columns(self, seq: int, end: int, wanted: int, counted: int, length: int,
                               exact: bytes | None) -> tuple[int, int, int]:
        """:meth:`next_incoming` over many frames with no fragmented message among them, on the columns."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        # copies of the slices: a buffer exported to numpy would stop the arrays from growing
        metas = np.frombuffer(self._meta[seq:end], dtype=np.uint32)
        ops = header.opcode_column(metas)
        bits = np.left_shift(np.uint32(1), ops)
        control = ops >= Opcode.CLOSE
        message = ~header.out_column(metas) & (control | header.completes_column(metas))
        asked = message & ((bits & np.uint32(wanted)) != 0)
        if length >= 0:
            offsets = np.frombuffer(self._offsets[seq:end + 1], dtype=np.int64)
            data_op = (bits & np.uint32(_DATA_OPCODES)) != 0
            asked &= ~data_op | (np.diff(offsets) == length)
            if exact is not None and length > 0:
                asked = self._exactly(asked, data_op, offsets, exact)
        found = np.flatnonzero(asked)
        first = int(found[0]) if found.size else end - seq
        passing = np.flatnonzero(message[:first] & ((bits[:first] & np.uint32(counted)) != 0))
        last = seq + int(passing[-1]) if passing.size else -1
        return seq + first, int(passing.size), last

    def _exactly(self, asked: Any, data_op: Any, offsets: Any, exact: bytes) -> Any:
        """``asked`` less the text and binary messages whose payload is not ``exact`` (of its length already):
        compared byte by byte on the candidates left, the last few whole."""
        import numpy as np  # noqa: PLC0415

        candidates = np.flatnonzero(asked & data_op)
        base = int(offsets[0])
        chunk = np.frombuffer(bytes(self._data[base:int(offsets[-1])]), dtype=np.uint8)
        starts = offsets[candidates] - base
        for index, byte in enumerate(exact):
            if candidates.size <= 4:
                break
            keep = chunk[starts + index] == byte
            candidates, starts = candidates[keep], starts[keep]
        data, absolute = self._data, offsets[0]
        equal = [int(c) for c, start in zip(candidates, starts, strict=True)
                 if data.startswith(exact, int(absolute + start))]
        asked = asked & ~data_op
        asked[equal] = True
        return asked

    def iter_messages(self) -> Iterator[Message]:
        """Every complete message in the order it completed (but those of dropped frames)."""
        if self._older is not None and self._older_end:
            for message in self._older.iter_messages():
                if message.last_seq >= self._older_end:
                    break
                yield message
        metas, base = self._meta, self._base
        for index in range(len(metas)):
            if metas[index] & _COMPLETES:
                complete = self.message_for(base + index)
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
        opcode = header.opcode(self._meta[seq - self._base])
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
        index = bisect_left(self._ts, ts_ns)
        if index == 0 and self._older_end < self._base and ts_ns <= self._dropped_ts:
            return self._older_end
        return self._base + index

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


class _Dropped:
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
