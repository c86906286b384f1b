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
from wsinspector.core.session.messages import MessageStream

if TYPE_CHECKING:
    from wsinspector.core.filters import FrameFilter

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
        return len(self._ts)

    def __getitem__(self, seq: int) -> Frame:
        if seq < 0:
            seq += len(self._ts)
        meta = self._meta[seq]
        payload = bytes(self._data[self._offsets[seq] : self._offsets[seq + 1]])
        fields = header.fields(meta)
        if meta & _LENGTH_IS_PAYLOAD:
            length: int | None = len(payload)
        else:
            length = self._payload_length.get(seq)
        return Frame(seq=seq, ts_ns=self._ts[seq], payload=payload, payload_length=length,
                     mask_key=self._mask_key.get(seq), note=self._note.get(seq, ""), **fields)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Frame]:
        for seq in range(len(self._ts)):
            yield self[seq]

    # -- fast column access for views -------------------------------------------------------------

    def ts_ns(self, seq: int) -> int:
        return self._ts[seq]

    def meta(self, seq: int) -> int:
        """The packed header bits of a frame (see :mod:`wsinspector.core.model.header`)."""
        return self._meta[seq] & _HEADER_BITS

    def direction(self, seq: int) -> Direction:
        return header.direction(self._meta[seq])

    def opcode(self, seq: int) -> Opcode:
        return header.opcode(self._meta[seq])

    def payload(self, seq: int) -> bytes:
        return bytes(self._data[self._offsets[seq] : self._offsets[seq + 1]])

    def payload_head(self, seq: int, limit: int) -> bytes:
        start = self._offsets[seq]
        return bytes(self._data[start : min(start + limit, self._offsets[seq + 1])])

    def size(self, seq: int) -> int:
        """Wire length when known, else the payload length."""
        if self._meta[seq] & _LENGTH_IS_PAYLOAD:
            return self._offsets[seq + 1] - self._offsets[seq]
        return self._payload_length.get(seq, self._offsets[seq + 1] - self._offsets[seq])

    def note(self, seq: int) -> str:
        return self._note.get(seq, "")

    def frame(self, seq: int) -> Frame:
        return self[seq]

    def frames(self, first: int, last: int) -> Iterator[Frame]:
        """Frames ``first``..``last`` (inclusive), in order."""
        for seq in range(first, last + 1):
            yield self[seq]

    def scan(self, first: int, last: int) -> Iterator[tuple[int, int, bytes]]:
        """(seq, meta, payload) of frames ``first``..``last``, for filters and find."""
        for seq in range(first, last + 1):
            yield seq, self.meta(seq), self.payload(seq)

    def match_seqs(self, flt: FrameFilter, first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` that ``flt`` lets through. Raises FilterError on a bad regex."""
        match = flt.matcher()
        if flt.is_empty():
            return list(range(first, last + 1))
        return [seq for seq, meta, payload in self.scan(first, last) if match(meta, payload)]

    def columns(self, first: int, end: int) -> Columns:
        """Frames ``first`` up to ``end`` (exclusive) as columns: what the store reads to record them."""
        extras: list[tuple[int, int | None, bytes | None, str | None]] = []
        seqs = self._extra_seqs
        for k in range(bisect_left(seqs, first), bisect_left(seqs, end)):
            seq = seqs[k]
            extras.append((seq - first, self._payload_length.get(seq), self._mask_key.get(seq), self._note.get(seq)))
        offsets = self._offsets[first:end + 1]
        return Columns(first, self._ts[first:end], self._meta[first:end], offsets,
                       bytes(self._data[offsets[0]:offsets[-1]]), extras)

    def counts(self, first: int, last: int) -> tuple[int, int, int, int]:
        """(frames in, frames out, payload bytes in, payload bytes out) of frames ``first``..``last``."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        if last < first:
            return 0, 0, 0, 0
        # copies of the slices: a buffer exported to numpy would stop the arrays from growing
        out = header.out_column(np.frombuffer(self._meta[first:last + 1], dtype=np.uint32))
        sizes = np.diff(np.frombuffer(self._offsets[first:last + 2], dtype=np.int64))
        frames_out = int(np.count_nonzero(out))
        bytes_out = int(sizes[out].sum())
        return last + 1 - first - frames_out, frames_out, int(sizes.sum()) - bytes_out, bytes_out

    def _count_up(self) -> None:
        end = len(self._ts)
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
        return len(self._data)

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
        seq = len(self._ts)
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
        if not 0 <= seq < len(self._meta):
            return None
        last = self._fragment_of.get(seq)
        if last is not None:
            return self._fragmented[last]
        meta = self._meta[seq]
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
        """Every complete message in the order it completed."""
        metas = self._meta
        for seq in range(len(metas)):
            if metas[seq] & _COMPLETES:
                message = self.message_for(seq)
                assert message is not None
                yield message

    @property
    def messages(self) -> list[Message]:
        """Every complete message in the order it completed (built on demand: O(n))."""
        return list(self.iter_messages())

    def data_opcode(self, seq: int) -> Opcode:
        """TEXT or BINARY for a data frame (a continuation takes its message's), else the frame's own opcode."""
        opcode = header.opcode(self._meta[seq])
        if opcode is Opcode.CONTINUATION:
            return self._continues.get(seq, Opcode.CONTINUATION)
        return opcode

    def relative_us(self, frame: Frame | int) -> float:
        ts = frame.ts_ns if isinstance(frame, Frame) else self._ts[frame]
        return (ts - self.started_ns) / 1000.0

    def seq_at_or_after(self, ts_ns: int) -> int:
        """The first seq stamped at or after ``ts_ns`` (len(self) when none): timestamps never decrease."""
        lo, hi = 0, len(self._ts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._ts[mid] < ts_ns:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def new_segment(self) -> None:
        """A new connection starts within the same log: unfinished fragments and open pings are dropped, and
        the next frame is marked as the first of the new connection."""
        self._messages.reset()
        self._in_open = False
        self._pongs.reset()
        self._segment_starts.add(len(self._ts))

    def starts_segment(self, seq: int) -> bool:
        """Is this the first frame after a reconnect?"""
        return seq in self._segment_starts

    def add_event(self, ts_ns: int, kind: str, text: str) -> int:
        """Something that happened to the connection between frames: disconnect, reconnect, timeout.
        Returns the seq the next frame will get."""
        self.events.append((ts_ns, kind, text))
        return len(self._ts)
