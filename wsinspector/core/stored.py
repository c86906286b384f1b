"""A recorded session read back from the store, page by page: a
:class:`~wsinspector.core.session.interface.Session` like the live log."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from wsinspector.core.frames import Direction, Frame, Message, Opcode
from wsinspector.core.latency import PongMatcher
from wsinspector.core.model import header
from wsinspector.core.session.messages import assemble, starts_in
from wsinspector.core.store import FrameRow, SessionRecord, Store

if TYPE_CHECKING:
    from wsinspector.core.filters import FrameFilter

PAGE = 250
HEAD = 256
#: how far back and forward to look for the rest of a fragmented message
MESSAGE_WINDOW = 5000
READ_CHUNK = 64
#: frames read from the store at a time when reading a range
READ_PAGE = 2000


class StoredSession:
    """Read-only view of a stored session. Only the pages on screen are in memory (an LRU of summaries).

    A live log reads its recorded frames that left memory through one of these, which grows with the recording
    (:meth:`extend`)."""

    #: a stored session holds every frame it recorded
    dropped = range(0)

    def __init__(self, store: Store, record: SessionRecord, cached_pages: int = 256) -> None:
        self.store = store
        self.record = record
        self._errors_before = store.read_errors
        self.session_id = record.id
        self.started_ns = record.started_ns
        self.started_wall = record.started_wall
        self._count = store.stored_frame_count(record.id, record.frame_count)
        self._pages: OrderedDict[int, list[tuple[int, int, int, int, bytes, int]]] = OrderedDict()
        self._cached_pages = cached_pages
        #: the page of the last frame asked for
        self._hot_page = -1
        self._hot: list[tuple[int, int, int, int, bytes, int]] = []
        self._continues: dict[int, Opcode] = {}
        self._rtts: dict[int, int | None] | None = None
        self._samples: list[tuple[int, int, int]] = []
        self._events = store.events(record.id)
        self._segment_starts = {seq for seq, _, kind, _ in self._events if kind == "reconnect"}

    def __len__(self) -> int:
        return self._count

    def extend(self, count: int) -> None:
        """The session, still being recorded, now holds ``count`` frames (its last page is read again)."""
        if count > self._count:
            self._pages.pop(self._count // PAGE, None)
            self._hot_page = -1
            self._count = count
            self._events = self.store.events(self.session_id)  # a damaged page: the events read before it
            self._segment_starts = {seq for seq, _, kind, _ in self._events if kind == "reconnect"}

    def _summary(self, seq: int) -> tuple[int, int, int, int, bytes, int]:
        if not 0 <= seq < self._count:
            raise IndexError(seq)
        page_no = seq // PAGE
        # the page asked for last answers again without a lookup (a row's cells ask for the same frame's
        # summary several times); it is the newest of the LRU already
        if page_no == self._hot_page:
            page = self._hot
        else:
            page = self._page(page_no)
            self._hot_page, self._hot = page_no, page
        index = seq - page_no * PAGE
        row = page[index] if index < len(page) else None
        if row is None or row[0] != seq:
            # a gap in the stored frames (the session was deleted, or the file damaged): a damaged empty frame
            row = next((r for r in page if r[0] == seq), (seq, self.started_ns, _MISSING_META, 0, b"", 0))
        return row

    def _page(self, page_no: int) -> list[tuple[int, int, int, int, bytes, int]]:
        page = self._pages.get(page_no)
        if page is None:
            first = page_no * PAGE
            page = self.store.read_summaries(self.session_id, first, min(first + PAGE, self._count) - 1, HEAD)
            self._pages[page_no] = page
            if len(self._pages) > self._cached_pages:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page

    @property
    def read_error(self) -> str:
        """What part of the file could not be read since this session was opened, in the user's terms ("":
        nothing); the frames it held read as damaged."""
        return self.store.read_error if self.store.read_errors > self._errors_before else ""
    def ts_ns(self, seq: int) -> int:
        return self._summary(seq)[1]

    def meta(self, seq: int) -> int:
        return header.header_of(self._summary(seq)[2])

    def origin(self, seq: int) -> int:
        return header.origin(self._summary(seq)[2])

    def direction(self, seq: int) -> Direction:
        return header.direction(self._summary(seq)[2])

    def _side(self, seq: int) -> tuple[Direction, bool]:
        """The direction of a frame and whether it travelled on a recording proxy's upstream hop: the frames
        whose fragments make one message."""
        meta = self._summary(seq)[2]
        return header.direction(meta), header.upstream(meta)

    def opcode(self, seq: int) -> Opcode:
        return header.opcode(self._summary(seq)[2])

    def size(self, seq: int) -> int:
        return self._summary(seq)[3]

    def payload_size(self, seq: int) -> int:
        return self._summary(seq)[5]

    def message_starts(self, first: int, last: int) -> array[int]:
        """The seqs in ``first``..``last`` that start a row of the message view (every frame but a
        continuation), read from the stored header columns alone."""
        out = array("q")
        for run_first, headers in self.store.header_runs(self.session_id, max(first, 0), min(last, self._count - 1)):
            out.extend(starts_in(run_first, headers))
        return out

    def payload_head(self, seq: int, limit: int) -> bytes:
        summary = self._summary(seq)
        head = summary[4]
        # the page holds the first HEAD bytes: all of a short payload, so it is not read from the store again
        if limit <= HEAD or len(head) >= summary[5]:
            return head[:limit]
        return self.frame(seq).payload[:limit]

    def payload(self, seq: int) -> bytes:
        return self.frame(seq).payload

    def note(self, seq: int) -> str:
        return self.frame(seq).note if self.opcode(seq) is Opcode.CLOSE else ""

    def relative_us(self, frame: Frame | int) -> float:
        ts = frame.ts_ns if isinstance(frame, Frame) else self.ts_ns(frame)
        return (ts - self.started_ns) / 1000.0

    def frame(self, seq: int) -> Frame:
        if not 0 <= seq < self._count:
            raise IndexError(seq)
        rows = self.store.read_frames(self.session_id, seq, seq)
        return _to_frame(rows[0]) if rows else self._missing(seq)

    def _missing(self, seq: int) -> Frame:
        """A frame the file no longer holds (a damaged or lost chunk), shown as damaged where it was."""
        return _to_frame((seq, self.started_ns, _MISSING_META, None, None, MISSING_NOTE, b""))

    def __getitem__(self, seq: int) -> Frame:
        return self.frame(seq)

    def frames(self, first: int, last: int, page: int = READ_PAGE) -> Iterator[Frame]:
        """Frames ``first``..``last`` (inclusive) as stored, in order, read ``page`` frames at a time."""
        last = min(last, self._count - 1)
        for start in range(max(first, 0), last + 1, page):
            expected = start
            for row in self.store.read_frames(self.session_id, start, min(start + page - 1, last)):
                # frames the file lost before this one: damaged where they were
                yield from map(self._missing, range(expected, row[0]))
                expected = row[0] + 1
                yield _to_frame(row)
            yield from map(self._missing, range(expected, min(start + page - 1, last) + 1))

    def scan(self, first: int, last: int) -> Iterator[tuple[int, int, bytes]]:
        """(seq, meta, payload) of frames ``first``..``last``, for filters and find."""
        return self.store.scan_frames(self.session_id, first, last)

    def match_seqs(self, flt: FrameFilter, first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` that ``flt`` lets through (the stored chunks searched as a whole).
        Raises FilterError on a bad regex."""
        return self.store.filter_seqs(self.session_id, flt, first, last)

    def seq_at_or_after(self, ts_ns: int) -> int:
        """The first seq stamped at or after ``ts_ns`` (``len(self)`` when none)."""
        seq = self.store.seq_at_or_after(self.session_id, ts_ns)
        return self._count if seq is None else seq

    @property
    def frames_in(self) -> int:
        return self.record.frames_in

    def _pong_rtts(self) -> dict[int, int | None]:
        """Every pong's RTT, by replaying the session's pings and pongs (one scan, on first use), connection by
        connection."""
        if self._rtts is None:
            matcher = PongMatcher()
            segments = sorted(self._segment_starts, reverse=True)
            for seq, ts_ns, meta, payload in self.store.control_frames(self.session_id, (Opcode.PING, Opcode.PONG)):
                if segments and segments[-1] <= seq:
                    # a new connection since the last ping or pong: its pings went unanswered, as live
                    while segments and segments[-1] <= seq:
                        segments.pop()
                    matcher.reset()
                if header.opcode(meta) is Opcode.PING and header.direction(meta) is Direction.OUT:
                    matcher.ping_sent(seq, payload, ts_ns)
                elif header.opcode(meta) is Opcode.PONG and header.direction(meta) is Direction.IN:
                    matcher.pong_received(seq, payload, ts_ns)
            self._rtts = matcher.rtt
            self._samples = matcher.samples
        return self._rtts

    @property
    def rtt_samples(self) -> list[tuple[int, int, int]]:
        """(pong seq, pong monotonic ns, rtt ns) of every answered ping of the session, in order."""
        self._pong_rtts()
        return self._samples

    def rtt_ns(self, seq: int) -> int | None:
        """For an incoming pong: the time since the ping it answered (None if it answered none)."""
        return self._pong_rtts().get(seq)

    def is_unsolicited(self, seq: int) -> bool:
        rtts = self._pong_rtts()
        return seq in rtts and rtts[seq] is None

    @property
    def events(self) -> list[tuple[int, str, str]]:
        """(monotonic ns, kind, text) of the session's connection events, as a live log lists them."""
        return [(ts, kind, text) for _, ts, kind, text in self._events]

    def starts_segment(self, seq: int) -> bool:
        """Is this the first frame after a reconnect?"""
        return seq in self._segment_starts

    def data_opcode(self, seq: int) -> Opcode:
        opcode = self.opcode(seq)
        if opcode is not Opcode.CONTINUATION:
            return opcode
        known = self._continues.get(seq)
        if known is not None:
            return known
        side = self._side(seq)
        for back in range(seq - 1, max(-1, seq - MESSAGE_WINDOW), -1):
            if self._side(back) != side or self.opcode(back).is_control:
                continue
            back_opcode = self.opcode(back)
            if back_opcode is Opcode.CONTINUATION:
                continue
            self._continues[seq] = back_opcode
            return back_opcode
        return Opcode.CONTINUATION

    def message_for(self, seq: int) -> Message | None:
        """The message a data frame belongs to, assembled from the stored frames around it."""
        if not 0 <= seq < self._count or self.opcode(seq).is_control or header.damaged(self.meta(seq)):
            return None
        direction = self.direction(seq)
        side = self._side(seq)
        start = seq
        if self.opcode(seq) is Opcode.CONTINUATION:
            start = -1
            for back in range(seq - 1, max(-1, seq - MESSAGE_WINDOW), -1):
                if self._side(back) == side and self.opcode(back) in (Opcode.TEXT, Opcode.BINARY):
                    start = back
                    break
            if start < 0:
                return None
        if start == seq and header.fin(self.meta(seq)) is not False:
            # a TEXT/BINARY frame with FIN set (or unknown) is a whole message: read that frame alone
            frame = self.frame(seq)
            return Message(direction, frame.opcode, frame.payload, seq, seq, 1, (seq,), frame.upstream)
        last = min(self._count - 1, seq + MESSAGE_WINDOW)
        for message in assemble(self.frames(start, last, READ_CHUNK), self._segment_starts):
            if (message.direction, message.upstream) == side:
                return message if message.first_seq <= seq <= message.last_seq else None
        return None

    def iter_messages(self) -> Iterator[Message]:
        """Every complete message of the session, in the order they completed."""
        return assemble(self.frames(0, self._count - 1), self._segment_starts)


#: what a frame the file no longer holds reads as
_MISSING_META = header.damaged_meta(0)
MISSING_NOTE = "damaged in the file: this frame could not be read"


def _to_frame(row: FrameRow) -> Frame:
    seq, ts, meta, length, mask_key, note, payload = row
    return Frame(seq=seq, ts_ns=ts, payload=bytes(payload), payload_length=length, mask_key=mask_key,
                 note=note or "", damaged=header.damaged(meta), upstream=header.upstream(meta),
                 **header.fields(meta))  # type: ignore[arg-type]
