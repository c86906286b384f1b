"""What sent a frame (a periodic send, an auto-reply) is kept with it in the store, and the composer's history
is stored per connection, bounded, across reopening the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Frame, Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.model import header
from wsinspector.core.sending import HISTORY_KEEP
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession


def test_marks_of_scheduled_and_auto_reply_frames_survive_in_the_stored_session(
        open_store: Callable[[Path], Store], db_path: Path) -> None:
    log = FrameLog(started_ns=0)
    for index, direction in enumerate((Direction.OUT, Direction.OUT, Direction.IN, Direction.OUT)):
        log.append(Frame(seq=0, ts_ns=index, direction=direction, opcode=Opcode.TEXT, payload=b"m%d" % index,
                         fin=True))
    log.mark(1, 1, header.SCHEDULED)
    log.mark(3, 3, header.AUTO_REPLY)
    assert [header.origin_label(log.origin(seq)) for seq in range(4)] == ["", "scheduled", "", "auto-reply"]
    assert log.meta(1) == log.meta(0)  # the header fields are what they were
    store = open_store(db_path)
    session_id = store.create_session("marks", "ws://127.0.0.1:1/", 0.0, 0)
    store.append_live(session_id, log, 0, len(log) - 1)
    store.close()
    reopened = open_store(db_path)
    record = reopened.session(session_id)
    assert record is not None
    stored = StoredSession(reopened, record)
    assert [header.origin_label(stored.origin(seq)) for seq in range(4)] == ["", "scheduled", "", "auto-reply"]
    assert [stored.frame(seq).payload for seq in range(4)] == [b"m0", b"m1", b"m2", b"m3"]
    assert [stored.meta(seq) for seq in range(4)] == [log.meta(seq) for seq in range(4)]
    assert not any(stored.frame(seq).damaged for seq in range(4))
    # filters see the frames' headers, not the marks
    outgoing = FrameFilter(directions=frozenset({Direction.OUT}), opcodes=frozenset({Opcode.TEXT}))
    assert reopened.filter_seqs(session_id, outgoing, 0, 3) == [0, 1, 3]
    assert reopened.filter_seqs(session_id, FrameFilter(text="m3"), 0, 3) == [3]


def test_the_history_is_kept_per_connection_bounded_and_across_reopening(
        open_store: Callable[[Path], Store], db_path: Path) -> None:
    store = open_store(db_path)
    for index in range(HISTORY_KEEP + 5):
        store.add_history("conn-a", 1000.0 + index, "text", f"message {index}", HISTORY_KEEP)
    store.add_history("conn-b", 5.0, "json", '{"b": {{$counter}}}', HISTORY_KEEP)
    store.close()
    reopened = open_store(db_path)
    kept = reopened.history("conn-a", HISTORY_KEEP * 2)
    assert len(kept) == HISTORY_KEEP
    assert kept[0] == (1005.0, "text", "message 5") and kept[-1][2] == f"message {HISTORY_KEEP + 4}"
    assert reopened.history("conn-b", 10) == [(5.0, "json", '{"b": {{$counter}}}')]
    assert reopened.history("conn-a", 2) == [(1000.0 + HISTORY_KEEP + 3, "text", f"message {HISTORY_KEEP + 3}"),
                                             (1000.0 + HISTORY_KEEP + 4, "text", f"message {HISTORY_KEEP + 4}")]
