"""The session interface: the same checks against a live log and the stored session it recorded, through
:class:`~wsinspector.core.session.Session` alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.core.test_stored_session import STARTED_NS, STARTED_WALL, LogBuilder, mixed_session
from wsinspector.core.filters import FilterError, FrameFilter
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.session import Session
from wsinspector.core.store import SessionStatus, Store
from wsinspector.core.stored import StoredSession

IN, OUT = Direction.IN, Direction.OUT
#: a live log with every frame in memory, the stored session it recorded, and a live log that let go of its
#: recorded frames up to seq 13 (through a fragmented message) and reads them back from the store; "blocks":
#: the live log held as sealed blocks of four frames and a tail (as flushes seal it), then windowed the same
KINDS = ["live", "stored", "windowed", "blocks", "windowed-blocks"]
#: how many frames each block holds in the kinds held in blocks
BLOCK = 4
#: where the windowed kind's memory starts
WINDOW_START = 13


def as_kind(kind: str, log: FrameLog, store: Store, events: Sequence[tuple[int, int, str, str]] = ()) -> Session:
    """The log itself, or the stored session it records (in small flushes, with its events), or the log with
    its older frames out of memory and read back from that session."""
    if kind in ("live", "blocks"):
        return log
    session_id = store.create_session("recorded", "ws://127.0.0.1:1/", log.started_wall, log.started_ns)
    if kind.startswith("windowed"):
        created = store.session(session_id)
        assert created is not None
        log.read_older_from(StoredSession(store, created))
    open_chunk = None
    for first in range(0, len(log), 7):
        open_chunk = store.append_live(session_id, log, first, min(first + 7, len(log)) - 1, open_chunk)
    for seq, ts, kind_of, text in events:
        store.add_event(session_id, seq, ts, kind_of, text)
    if kind.startswith("windowed"):
        held = log.nbytes() + log.payload_bytes
        assert log.release(min(WINDOW_START, len(log) - 1), len(log))
        assert log.first_held == min(WINDOW_START, len(log) - 1) and log.nbytes() + log.payload_bytes < held
        assert log.dropped == range(0)
        return log
    store.finish_session(session_id, SessionStatus.CLOSED, STARTED_WALL + 1, 1000, "")
    record = store.session(session_id)
    assert record is not None
    return StoredSession(store, record)


@pytest.fixture(params=KINDS)
def session(request: pytest.FixtureRequest, store: Store) -> Session:
    return as_kind(request.param, mixed_session(BLOCK if request.param.endswith("blocks") else 0), store)


#: (first seq, last seq) of every complete message of mixed_session(), in the order they complete
MESSAGES = [(0, 0), (1, 1), (5, 5), (9, 9), (4, 10), (12, 12), (14, 14), (11, 17), (18, 18), (19, 19), (20, 20),
            (21, 23), (24, 25)]


def test_frames_by_range_are_the_frames_one_by_one(session: Session) -> None:
    assert len(session) == 30
    assert session.started_ns == STARTED_NS and session.started_wall == STARTED_WALL
    everything = list(session.frames(0, len(session) - 1))
    assert [frame.seq for frame in everything] == list(range(30))
    assert everything == [session.frame(seq) for seq in range(30)]
    assert [frame.seq for frame in session.frames(5, 9)] == [5, 6, 7, 8, 9]
    assert list(session.frames(3, 2)) == []
    assert [(seq, meta) for seq, meta, _ in session.scan(4, 8)] == [(seq, session.meta(seq)) for seq in range(4, 9)]
    assert [payload for _, _, payload in session.scan(0, 29)] == [frame.payload for frame in everything]


def test_messages_in_the_order_they_complete(session: Session) -> None:
    messages = list(session.iter_messages())
    assert [(m.first_seq, m.last_seq) for m in messages] == MESSAGES
    fragmented = {m.first_seq: m for m in messages if m.frame_count > 1}
    assert fragmented[4].payload == "frag ✓ one, two, three".encode() and fragmented[4].seqs == (4, 7, 10)
    assert fragmented[11].payload == bytes(range(256)) * 2 + b"\x10" * 300 + b"\x20\x21"
    assert fragmented[11].direction is IN and fragmented[11].opcode is Opcode.BINARY


def test_the_message_a_frame_belongs_to(session: Session) -> None:
    for first, last in MESSAGES:
        message = session.message_for(last)
        assert message is not None and (message.first_seq, message.last_seq) == (first, last)
        for seq in message.seqs:
            assert session.message_for(seq) == message
    assert session.message_for(2) is None  # a ping
    assert session.message_for(28) is None and session.message_for(29) is None  # never finished
    assert session.message_for(-1) is None and session.message_for(30) is None
    assert session.data_opcode(7) is Opcode.TEXT and session.data_opcode(15) is Opcode.BINARY
    assert session.data_opcode(29) is Opcode.BINARY and session.data_opcode(2) is Opcode.PING


def test_pongs_answer_pings_with_their_rtts(session: Session) -> None:
    assert session.rtt_ns(3) == session.ts_ns(3) - session.ts_ns(2)
    assert session.rtt_ns(8) == session.ts_ns(8) - session.ts_ns(6)
    assert session.rtt_ns(13) is None and session.is_unsolicited(13)
    assert not session.is_unsolicited(3) and not session.is_unsolicited(0)
    assert [(seq, ts, rtt) for seq, ts, rtt in session.rtt_samples] == [
        (3, session.ts_ns(3), session.rtt_ns(3)), (8, session.ts_ns(8), session.rtt_ns(8))]


def test_filters_match_the_same_frames(session: Session) -> None:
    assert session.match_seqs(FrameFilter(text="HELLO"), 0, 29) == [0, 1]
    assert session.match_seqs(FrameFilter(text="HELLO", case_sensitive=True), 0, 29) == []
    assert session.match_seqs(FrameFilter(opcodes=frozenset({Opcode.PONG})), 0, 29) == [3, 8, 13]
    assert session.match_seqs(FrameFilter(directions=frozenset({OUT}), opcodes=frozenset({Opcode.PING})), 5, 29) \
        == [6, 16]
    assert session.match_seqs(FrameFilter(), 10, 12) == [10, 11, 12]
    assert session.match_seqs(FrameFilter(text=r"fin\s+unk", regex=True), 0, 29) == [19]
    with pytest.raises(FilterError):
        session.match_seqs(FrameFilter(text="(", regex=True), 0, 29)


def test_times_and_counters(session: Session) -> None:
    assert session.seq_at_or_after(0) == 0
    assert session.seq_at_or_after(session.ts_ns(7)) == 7
    assert session.seq_at_or_after(session.ts_ns(7) + 1) == 8
    assert session.seq_at_or_after(session.ts_ns(29) + 1) == len(session)
    assert session.relative_us(7) == (session.ts_ns(7) - STARTED_NS) / 1000
    assert session.frames_in == sum(session.direction(seq) is IN for seq in range(len(session)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_reconnect_starts_a_segment_and_drops_what_was_unfinished(kind: str, store: Store) -> None:
    b = LogBuilder()
    b.add(OUT, Opcode.TEXT, b"left ", fin=False)
    b.add(OUT, Opcode.PING, b"open ping")
    ts = b.log.ts_ns(1) + 10
    seq = b.log.add_event(ts, "reconnect", "reconnected")
    b.log.new_segment()
    b.add(OUT, Opcode.TEXT, b"new")
    b.add(IN, Opcode.PONG, b"open ping")
    session = as_kind(kind, b.log, store, [(seq, ts, "reconnect", "reconnected")])
    assert [m.payload for m in session.iter_messages()] == [b"new"]
    assert session.message_for(2) is not None and session.message_for(0) is None
    assert [session.starts_segment(seq) for seq in range(4)] == [False, False, True, False]
    assert session.events == [(ts, "reconnect", "reconnected")]
    assert session.is_unsolicited(3) and session.rtt_samples == []  # its ping went with the old connection


def test_both_kinds_have_every_member_of_the_interface(session: Session) -> None:
    members = {name for name in vars(Session) if not name.startswith("_")} | {"__len__"}
    assert {"frames", "message_for", "iter_messages", "match_seqs", "rtt_samples", "frames_in"} <= members
    assert sorted(name for name in members if not hasattr(session, name)) == []


def test_message_starts_are_every_frame_but_a_continuation(session: Session) -> None:
    """The message view's rows, read from the packed headers, the same for a live log, a stored session and a
    log reading its older frames back; any range of them."""
    expected = [seq for seq in range(30) if session.opcode(seq) is not Opcode.CONTINUATION]
    assert list(session.message_starts(0, 29)) == expected
    assert list(session.message_starts(5, 19)) == [seq for seq in expected if 5 <= seq <= 19]
    assert list(session.message_starts(-3, 100)) == expected
    assert list(session.message_starts(8, 7)) == []
    # each message's row is its first frame's
    for first, last in MESSAGES:
        assert first in expected
        assert not any(first < seq <= last and session.opcode(seq) is Opcode.CONTINUATION and seq in expected
                       for seq in range(first, last + 1))


def test_payload_size_is_the_delivered_length(session: Session) -> None:
    for seq in range(30):
        assert session.payload_size(seq) == len(session.payload(seq))
