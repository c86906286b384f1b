"""StoredSession reads a recorded session back page by page: every accessor must agree with the live FrameLog
that recorded the same frames (the timeline and detail views use either one)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from wsinspector.core.chunks import CHUNK_BYTES, CHUNK_FRAMES, OPEN_FRAMES, FrameRow
from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Frame, Opcode, close_payload
from wsinspector.core.log import FrameLog
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import HEAD, PAGE, StoredSession

IN, OUT = Direction.IN, Direction.OUT
STARTED_NS = 1_000_000
STARTED_WALL = 1_700_000_000.0
UNSEEN = "reconstructed from closeCode()/closeReason()"


class LogBuilder:
    """Appends frames to a FrameLog with increasing timestamps, as an engine reports them."""

    def __init__(self, seal_every: int = 0) -> None:
        self.log = FrameLog(started_ns=STARTED_NS, started_wall=STARTED_WALL)
        self._ts = STARTED_NS
        #: the log seals its tail into a block every this many frames (0: never), as a flush would
        self._seal_every = seal_every
        if seal_every:
            self.log.seal_frames = seal_every

    def add(self, direction: Direction, opcode: Opcode, payload: bytes, fin: bool | None = True,
            **fields: object) -> int:
        self._ts += 1_234
        if direction is OUT:
            fields.setdefault("masked", True)
            fields.setdefault("rsv1", False)
            fields.setdefault("rsv2", False)
            fields.setdefault("rsv3", False)
            fields.setdefault("payload_length", len(payload))
        seq = self.log.append(Frame(seq=-1, ts_ns=self._ts, direction=direction, opcode=opcode, payload=payload,
                                    fin=fin, **fields))  # type: ignore[arg-type]
        if self._seal_every:
            assert not self.log.keep_window(1 << 30, 1 << 40, 0, 0)  # seals the tail, lets nothing go
        return seq


def record(store: Store, log: FrameLog, batch: int = 37, cached_pages: int = 64) -> StoredSession:
    """Write the log to the store in flush-sized batches as a recorder does, finish the session and open it
    read-only."""
    session_id = store.create_session("recorded", "ws://127.0.0.1:1/", log.started_wall, log.started_ns)
    open_chunk = None
    for first in range(0, len(log), batch):
        open_chunk = store.append_live(session_id, log, first, min(first + batch, len(log)) - 1, open_chunk)
    store.finish_session(session_id, SessionStatus.CLOSED, STARTED_WALL + 1, 1000, "")
    saved = store.session(session_id)
    assert saved is not None
    return StoredSession(store, saved, cached_pages=cached_pages)


def stored_rows(log: FrameLog, first: int, last: int) -> list[FrameRow]:
    """What the store reads back of frames ``first``..``last`` of a log it recorded."""
    return [(frame.seq, frame.ts_ns, log.meta(frame.seq), frame.payload_length, frame.mask_key, frame.note or None,
             frame.payload) for frame in log.frames(first, last)]


def mixed_session(seal_every: int = 0) -> FrameLog:
    """A session with everything the views must show right: single-frame messages, an outgoing text message
    in fragments with incoming frames and control frames between them, an incoming binary message in
    fragments with outgoing ones and pings between them, big payloads, unknown and differing wire lengths,
    mask keys, a reconstructed close frame with a note, and a message still being received at the end."""
    b = LogBuilder(seal_every)
    b.add(OUT, Opcode.TEXT, b"hello")
    b.add(IN, Opcode.TEXT, b"hello")
    b.add(OUT, Opcode.PING, b"p1", mask_key=b"\x01\x02\x03\x04")
    b.add(IN, Opcode.PONG, b"p1", payload_length=2)
    # outgoing fragmented text, incoming traffic and controls interleaved
    b.add(OUT, Opcode.TEXT, "frag ✓ one, ".encode(), fin=False)
    b.add(IN, Opcode.BINARY, b"\x00\x01\x02", payload_length=3)
    b.add(OUT, Opcode.PING, b"mid")
    b.add(OUT, Opcode.CONTINUATION, b"two, ", fin=False)
    b.add(IN, Opcode.PONG, b"mid")
    b.add(IN, Opcode.TEXT, b"unrelated incoming")
    b.add(OUT, Opcode.CONTINUATION, b"three", fin=True)
    # incoming fragmented binary, outgoing data and controls interleaved
    b.add(IN, Opcode.BINARY, bytes(range(256)) * 2, fin=False, payload_length=512)
    b.add(OUT, Opcode.BINARY, b"\xff" * 10)
    b.add(IN, Opcode.PONG, b"\x00")
    b.add(OUT, Opcode.TEXT, b"out while in is fragmented")
    b.add(IN, Opcode.CONTINUATION, b"\x10" * 300, fin=False)
    b.add(OUT, Opcode.PING, b"x")
    b.add(IN, Opcode.CONTINUATION, b"\x20\x21", fin=True)
    # wire length different from the payload (compressed), unknown fin/rsv (engine could not see them)
    b.add(IN, Opcode.TEXT, b"inflated payload", payload_length=9, rsv1=True)
    b.add(IN, Opcode.TEXT, b"fin unknown", fin=None)
    # a big single-frame message: the summaries hold only its head
    b.add(IN, Opcode.TEXT, ("big " * 400).encode())
    # another fragmented text in, a second one out right after it
    b.add(IN, Opcode.TEXT, b"a", fin=False)
    b.add(IN, Opcode.CONTINUATION, b"b", fin=False)
    b.add(IN, Opcode.CONTINUATION, b"c", fin=True)
    b.add(OUT, Opcode.BINARY, b"\x01", fin=False)
    b.add(OUT, Opcode.CONTINUATION, b"\x02", fin=True)
    b.add(OUT, Opcode.CLOSE, close_payload(1000, "done"))
    b.add(IN, Opcode.CLOSE, close_payload(1000, "done"), note=UNSEEN)
    # a message still being received when the recording ended
    b.add(IN, Opcode.BINARY, b"never", fin=False)
    b.add(IN, Opcode.CONTINUATION, b" finished", fin=False)
    return b.log


def assert_same(stored: StoredSession, log: FrameLog, seqs: range | list[int] | None = None,
                messages: bool = True) -> None:
    """Every accessor of the stored session agrees with the log, frame by frame (``messages``: message_for
    too, which reads the frames around each one)."""
    for seq in range(len(log)) if seqs is None else seqs:
        where = f"seq {seq}"
        assert stored.ts_ns(seq) == log.ts_ns(seq), where
        assert stored.meta(seq) == log.meta(seq), where
        assert stored.direction(seq) is log.direction(seq), where
        assert stored.opcode(seq) is log.opcode(seq), where
        assert stored.size(seq) == log.size(seq), where
        for limit in (0, 4, HEAD, HEAD + 1, 10_000):
            assert stored.payload_head(seq, limit) == log.payload_head(seq, limit), (where, limit)
        assert stored.payload(seq) == log.payload(seq), where
        assert stored.frame(seq) == log.frame(seq) == stored[seq], where
        assert stored.relative_us(seq) == log.relative_us(seq), where
        assert stored.data_opcode(seq) is log.data_opcode(seq), where
        if messages:
            assert stored.message_for(seq) == log.message_for(seq), where
        if log.opcode(seq) is Opcode.CLOSE:
            assert stored.note(seq) == log.note(seq), where


def test_stored_session_matches_the_log_on_every_accessor(store: Store) -> None:
    log = mixed_session()
    stored = record(store, log)
    assert len(stored) == len(log)
    assert stored.started_ns == log.started_ns and stored.started_wall == log.started_wall
    assert_same(stored, log)
    # and read in the reverse order too (nothing depends on having read the frames before)
    assert_same(record(store, log), log, list(reversed(range(len(log)))))


def test_fragmented_messages_are_assembled_across_interleaved_frames(store: Store) -> None:
    """What the detail view shows for a fragment: the whole message, not the frames between its parts."""
    log = mixed_session()
    stored = record(store, log)
    out_text = stored.message_for(7)
    assert out_text is not None
    assert out_text.payload == "frag ✓ one, two, three".encode()
    assert (out_text.direction, out_text.opcode, out_text.seqs) == (OUT, Opcode.TEXT, (4, 7, 10))
    in_binary = stored.message_for(11)
    assert in_binary is not None
    assert in_binary.payload == bytes(range(256)) * 2 + b"\x10" * 300 + b"\x20\x21"
    assert (in_binary.direction, in_binary.opcode, in_binary.seqs) == (IN, Opcode.BINARY, (11, 15, 17))
    assert stored.message_for(15) == stored.message_for(17) == in_binary
    # a continuation shows as the kind of message it continues
    assert [stored.data_opcode(s) for s in (7, 10, 15, 17, 22, 23, 25)] == [
        Opcode.TEXT, Opcode.TEXT, Opcode.BINARY, Opcode.BINARY, Opcode.TEXT, Opcode.TEXT, Opcode.BINARY]
    # control frames belong to no message; a message still being received is not complete
    assert stored.message_for(6) is None and stored.message_for(8) is None
    assert stored.message_for(len(log) - 1) is None and stored.message_for(len(log) - 2) is None
    assert stored.data_opcode(len(log) - 1) is Opcode.BINARY


def test_frames_with_an_empty_payload_read_back(store: Store) -> None:
    """An empty ping, an empty message and a close frame without a code: a stored session with any of them
    must still show its pages."""
    b = LogBuilder()
    b.add(OUT, Opcode.PING, b"")
    b.add(IN, Opcode.PONG, b"", payload_length=0)
    b.add(OUT, Opcode.TEXT, b"")
    b.add(IN, Opcode.TEXT, b"")
    b.add(IN, Opcode.TEXT, b"not empty")
    b.add(IN, Opcode.CLOSE, b"", note=UNSEEN)
    stored = record(store, b.log)
    assert_same(stored, b.log)


def test_pages_beyond_the_cache_read_correctly(store: Store) -> None:
    """A long session: more pages than the LRU keeps, fragmented messages across page boundaries."""
    b = LogBuilder()
    for i in range(PAGE * 5 + 123):
        if i % PAGE == PAGE - 2:  # a message whose fragments straddle the page boundary
            b.add(IN, Opcode.TEXT, f"start {i}|".encode(), fin=False)
        elif i % PAGE in (PAGE - 1, 0, 1) and i >= PAGE - 1:
            b.add(IN, Opcode.CONTINUATION, f"part {i}|".encode(), fin=i % PAGE == 1)
        elif i % 3 == 0:
            b.add(OUT, Opcode.BINARY, i.to_bytes(4, "big") * (1 + i % 90))
        else:
            b.add(IN, Opcode.TEXT, f"message {i} ".encode() * (1 + i % 40))
    log = b.log
    stored = record(store, log, batch=999, cached_pages=2)
    assert len(stored) == len(log) == PAGE * 5 + 123
    # jump around so that pages are evicted and read again
    last = PAGE * 5 + 122
    order = [0, last - 22, PAGE * 5 // 2, 0, PAGE - 1, PAGE, PAGE * 4, 1, PAGE * 4 - 1, last, PAGE * 2, 0, last]
    assert_same(stored, log, order)
    # the fragments across each page boundary assemble into their message
    for boundary in range(PAGE, PAGE * 6, PAGE):
        message = stored.message_for(boundary)
        assert message == log.message_for(boundary)
        assert message is not None and message.seqs == (boundary - 2, boundary - 1, boundary, boundary + 1)
    # every frame, page after page, in both directions of travel
    assert_same(stored, log, messages=False)
    assert_same(stored, log, list(reversed(range(len(log)))), messages=False)


def test_the_message_of_a_single_frame_is_read_without_the_frames_after_it(store: Store) -> None:
    """Selecting a frame of a stored session shows its message in the detail view. For a message in one frame
    that must not load the payloads of the frames after it: with big frames that is hundreds of megabytes
    for one click."""
    b = LogBuilder()
    for i in range(PAGE + 200):
        b.add(IN, Opcode.BINARY, bytes([i % 256]) * 8192, payload_length=8192)
    stored = record(store, b.log, batch=500)
    assert stored.size(0) == 8192  # the page of summaries is read (and cached) before measuring
    tracemalloc.start()
    try:
        message = stored.message_for(0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == b.log.message_for(0)
    assert peak < 1_000_000, f"{peak / 1e6:.1f} MB held to show one 8 KB message"


def test_pong_rtts_read_back_as_the_live_log_measured_them(store: Store) -> None:
    from wsinspector.core.frames import Direction, Frame, Opcode
    from wsinspector.core.log import FrameLog

    log = FrameLog(started_ns=0)
    frames = [
        (Direction.OUT, Opcode.PING, b"a", 1_000), (Direction.OUT, Opcode.PING, b"b", 2_000),
        (Direction.OUT, Opcode.PING, b"b", 3_000), (Direction.IN, Opcode.TEXT, b"data", 4_000),
        (Direction.IN, Opcode.PONG, b"b", 7_000), (Direction.IN, Opcode.PONG, b"a", 8_000),
        (Direction.IN, Opcode.PONG, b"b", 9_500), (Direction.IN, Opcode.PONG, b"zzz", 10_000),
    ]
    for direction, opcode, payload, ts in frames:
        log.append(Frame(seq=0, ts_ns=ts, direction=direction, opcode=opcode, payload=payload, fin=True))
    session_id = store.create_session("pings", "ws://127.0.0.1:1/", 0.0, 0)
    store.append_live(session_id, log, 0, len(log) - 1)
    record = store.session(session_id)
    assert record is not None
    stored = StoredSession(store, record)
    live = [(log.rtt_ns(seq), log.is_unsolicited(seq)) for seq in range(len(log))]
    assert [(stored.rtt_ns(seq), stored.is_unsolicited(seq)) for seq in range(len(stored))] == live
    assert live[4] == (5_000, False) and live[5] == (None, True) and live[6] == (6_500, False)


@pytest.mark.parametrize("batch", [1, 3, 100, 5000])
def test_a_recording_makes_full_chunks_whatever_the_flush_size(store: Store, batch: int) -> None:
    builder = LogBuilder()
    for i in range(2 * CHUNK_FRAMES + 300):
        if i % 5 == 0:
            builder.add(OUT, Opcode.TEXT, b"out %d" % i, mask_key=bytes([i % 256, 1, 2, 3]))
        elif i % 5 == 1:
            builder.add(IN, Opcode.BINARY, bytes(i % 300), rsv1=True, payload_length=7, note="inflated")
        else:
            builder.add(IN, Opcode.TEXT, b"in %d" % i)
    log = builder.log
    stored = record(store, log, batch=batch)

    assert store.read_frames(stored.session_id, 0, len(log) - 1) == stored_rows(log, 0, len(log) - 1)
    assert (stored.record.frames_in, stored.record.frames_out) == (log.frames_in, len(log) - log.frames_in)
    assert (stored.record.bytes_in, stored.record.bytes_out) == (log.bytes_in, log.bytes_out)
    chunks = store.connection.execute("SELECT count FROM chunks").fetchall()
    # a slow feed fills its chunk up to OPEN_FRAMES, rewriting it flush after flush; a fast one writes full ones
    most = max(OPEN_FRAMES, batch if batch < CHUNK_FRAMES else CHUNK_FRAMES)
    assert len(chunks) <= -(-len(log) // min(most, OPEN_FRAMES)) and all(c <= CHUNK_FRAMES for (c,) in chunks)


def test_frames_of_more_than_a_chunk_of_bytes_get_chunks_of_their_own(store: Store) -> None:
    builder = LogBuilder()
    for size in (10, CHUNK_BYTES + 5, 20, CHUNK_BYTES // 2, CHUNK_BYTES // 2 + 1, 30):
        builder.add(IN, Opcode.BINARY, bytes([size % 256]) * size, payload_length=size)
    log = builder.log
    stored = record(store, log, batch=100)
    assert store.read_frames(stored.session_id, 0, len(log) - 1) == stored_rows(log, 0, len(log) - 1)
    assert [c for (c,) in store.connection.execute("SELECT count FROM chunks ORDER BY key")] == [1, 1, 2, 2]


@pytest.mark.parametrize("damage", [
    "UPDATE chunks SET ts = substr(ts, 1, length(ts) - 1)",
    "UPDATE chunks SET meta = substr(meta, 1, length(meta) - 3)",
    "UPDATE chunks SET ends = substr(ends, 1, length(ends) - 5)",
    "UPDATE chunks SET ends = zeroblob(length(ends))",
    "UPDATE chunks SET payload = substr(payload, 1, 7)",
    "UPDATE chunks SET extras = '[[1, \"x\"'",
    "UPDATE chunks SET ts = 'not a blob', meta = 42",
])
def test_a_damaged_chunk_shows_what_it_can_and_never_raises(store: Store, damage: str) -> None:
    builder = LogBuilder()
    for i in range(20):
        builder.add(IN if i % 2 else OUT, Opcode.TEXT, b"frame %d e" % i)
    stored = record(store, builder.log, batch=20)
    store.connection.execute(damage)
    store.connection.commit()
    reopened = Store(store.path)  # nothing cached
    try:
        view = StoredSession(reopened, stored.record)
        for seq in range(len(view)):
            view.ts_ns(seq), view.meta(seq), view.size(seq), view.payload_head(seq, 10)
        reopened.read_frames(stored.session_id, 0, 100)
        reopened.filter_seqs(stored.session_id, FrameFilter(text="e", case_sensitive=True), 0, 100)
        reopened.filter_seqs(stored.session_id, FrameFilter(text="E"), 0, 100)
        reopened.seq_at_or_after(stored.session_id, STARTED_NS)
        assert view.rtt_samples == []
    finally:
        reopened.close()


def test_the_stored_bytes_are_kept_up_to_date_as_sessions_are_recorded_and_deleted(
    store: Store, data_dir: Path
) -> None:
    """The Sessions page and the retention ask for the bytes each session takes whenever a recording ends: the
    store answers from a running total, which must match a measurement of the file from scratch after chunks
    written again (a flush rewrites the chunk the last one left open), deletions and another writer's session."""

    def measured() -> dict[int, int]:
        fresh = Store(data_dir / "wsinspector.sqlite3")
        try:
            return fresh.stored_bytes()
        finally:
            fresh.close()

    builder = LogBuilder()
    for n in range(3 * OPEN_FRAMES):
        builder.add(IN, Opcode.TEXT, b"x" * (n % 50), note="late" if n % 97 == 0 else "")
    assert store.stored_bytes() == {}
    first = record(store, builder.log, batch=13).session_id
    second = record(store, builder.log, batch=1000).session_id
    sizes = store.stored_bytes()
    payload = sum(n % 50 for n in range(3 * OPEN_FRAMES))
    assert sizes == measured() and sizes[first] > payload and sizes[second] > payload
    store.delete_session(first)
    assert store.stored_bytes() == measured() == {second: sizes[second]}
    other = Store(data_dir / "wsinspector.sqlite3")  # `wsinspector run` records into the same file meanwhile
    try:
        third = record(other, builder.log).session_id
    finally:
        other.close()
    after = store.stored_bytes()
    assert after == measured() and after.keys() == {second, third} and after[second] == sizes[second]
