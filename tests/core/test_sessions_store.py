"""Recorded sessions in the store: real SQLite files in tmp_path, frames written in batches and read back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from wsinspector.core import store as store_module
from wsinspector.core.chunks import CHUNK_FRAMES
from wsinspector.core.frames import Direction, Opcode, close_payload
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile, Endpoint, Handshake
from wsinspector.core.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    FrameRow,
    SessionStatus,
    Store,
    StoreError,
)

OpenStore = Callable[[Path], Store]
IN, OUT = Direction.IN, Direction.OUT

STARTED_WALL = 1_700_000_000.25
STARTED_NS = 5_000_000_000






def varied_rows(count: int, first: int = 0, ts0: int = STARTED_NS + 1000) -> list[FrameRow]:
    """Frames as the log hands them to the store, covering every field: both directions, every opcode,
    a wire length that is unknown (None), equal to or different from the payload, mask keys, notes,
    empty payloads and payloads longer than a summary's head."""
    rows: list[FrameRow] = []
    for seq in range(first, first + count):
        kind = seq % 7
        ts = ts0 + seq * 1_000
        if kind == 0:  # incoming text, wire length unknown (QtWebSockets)
            payload = f"in text {seq} ✓".encode()
            rows.append((seq, ts, header.pack(IN, Opcode.TEXT, True), None, None, None, payload))
        elif kind == 1:  # outgoing masked binary with its mask key
            payload = bytes((seq + i) % 256 for i in range(seq % 50))
            rows.append((seq, ts, header.pack(OUT, Opcode.BINARY, True, False, False, False, True), len(payload),
                         bytes([seq % 256, 1, 2, 3]), None, payload))
        elif kind == 2:  # a big incoming binary frame: longer than any summary head
            payload = bytes([seq % 256]) * (300 + seq)
            rows.append((seq, ts, header.pack(IN, Opcode.BINARY, True), len(payload), None, None, payload))
        elif kind == 3:  # a wire length that differs from the payload (e.g. compressed), rsv1 set
            payload = b"x" * 40
            rows.append((seq, ts, header.pack(IN, Opcode.TEXT, True, True), 17, None, None, payload))
        elif kind == 4:  # an empty ping
            rows.append((seq, ts, header.pack(OUT, Opcode.PING, True, False, False, False, True), 0, b"\0\0\0\0",
                         None, b""))
        elif kind == 5:  # a reconstructed close frame with a note
            rows.append((seq, ts, header.pack(IN, Opcode.CLOSE, True), None, None, "reconstructed ✓",
                         close_payload(4001, "bye")))
        else:  # an unfinished fragment, fin unknown
            rows.append((seq, ts, header.pack(IN, Opcode.TEXT, None), None, None, None, b"part"))
    return rows


def new_session(store: Store, name: str = "Staging", url: str = "ws://127.0.0.1:9/") -> int:
    return store.create_session(name, url, STARTED_WALL, STARTED_NS, profile_id="p1")


def append_in_batches(store: Store, session_id: int, rows: list[FrameRow], sizes: list[int]) -> None:
    start = 0
    for size in sizes:
        store.append_frames(session_id, rows[start : start + size])
        start += size
    assert start >= len(rows)


# -- round trip --------------------------------------------------------------------------------------


def test_created_session_is_live_and_listed_with_what_was_given(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    session_id = new_session(store, "Prod ✓", "wss://example.com/socket")
    record = store.session(session_id)
    assert record is not None
    assert (record.name, record.url, record.profile_id) == ("Prod ✓", "wss://example.com/socket", "p1")
    assert (record.started_wall, record.started_ns) == (STARTED_WALL, STARTED_NS)
    assert record.status == SessionStatus.LIVE
    assert record.ended_wall is None and record.close_code is None and record.close_reason == ""
    assert (record.frames_in, record.frames_out, record.bytes_in, record.bytes_out) == (0, 0, 0, 0)
    assert record.last_ts_ns is None and record.frame_count == 0 and record.duration_s is None
    assert store.sessions() == [record]
    assert store.read_frames(session_id, 0, 100) == []
    assert store.session(session_id + 1) is None


def test_append_and_finish_round_trip_survives_reopening(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    rows = varied_rows(50)
    append_in_batches(store, session_id, rows, [1, 20, 29])
    store.finish_session(session_id, SessionStatus.CLOSED, STARTED_WALL + 3.5, 4001, "bye ✓")
    store.close()

    store = open_store(db_path)
    record = store.session(session_id)
    assert record is not None
    assert record.status == SessionStatus.CLOSED
    assert (record.close_code, record.close_reason, record.ended_wall) == (4001, "bye ✓", STARTED_WALL + 3.5)
    assert record.duration_s == pytest.approx(3.5)
    assert store.read_frames(session_id, 0, 49) == rows
    assert store.stored_frame_count(session_id) == 50 == record.frame_count
    assert store.integrity_check() == "ok"


def test_counters_count_frames_and_payload_bytes_per_direction(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    rows = varied_rows(40)
    append_in_batches(store, session_id, rows, [3, 3, 34])
    outgoing = [r for r in rows if header.is_out(r[2])]
    incoming = [r for r in rows if not header.is_out(r[2])]
    assert outgoing and incoming
    record = store.session(session_id)
    assert record is not None
    assert (record.frames_in, record.frames_out) == (len(incoming), len(outgoing))
    # bytes are the payload bytes held, not the wire lengths
    assert record.bytes_in == sum(len(r[6]) for r in incoming)
    assert record.bytes_out == sum(len(r[6]) for r in outgoing)
    assert record.last_ts_ns == rows[-1][1]
    assert record.duration_s == pytest.approx((rows[-1][1] - STARTED_NS) / 1e9)


def test_empty_batch_changes_nothing(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    store.append_frames(session_id, varied_rows(3))
    before = store.session(session_id)
    store.append_frames(session_id, [])
    assert store.session(session_id) == before


def test_read_frames_pages_across_batch_boundaries_return_exactly_what_was_appended(
    open_store: OpenStore, db_path: Path
) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    rows = varied_rows(1000)
    # batch sizes like the 50 ms flushes produce: uneven, one frame, many frames
    sizes = [1, 2, 97, 1, 400, 13, 486]
    append_in_batches(store, session_id, rows, sizes)

    # every page size, every offset relative to the batch boundaries
    for page in (1, 7, 64, 333, 1000):
        read: list[FrameRow] = []
        for first in range(0, 1000, page):
            read += store.read_frames(session_id, first, min(first + page, 1000) - 1)
        assert read == rows, f"page size {page}"
    # single frames on each side of every boundary
    boundary = 0
    for size in sizes:
        boundary += size
        for seq in (boundary - 1, boundary):
            if seq < 1000:
                assert store.read_frames(session_id, seq, seq) == [rows[seq]]
    # None payload_length, mask_key and note stay None; bytes stay bytes; notes stay text
    assert store.read_frames(session_id, 0, 0)[0][3:6] == (None, None, None)
    assert store.read_frames(session_id, 1, 1)[0][4] == bytes([1, 1, 2, 3])
    assert store.read_frames(session_id, 5, 5)[0][5] == "reconstructed ✓"
    assert store.read_frames(session_id, 6, 6)[0][5] is None
    # reading past the end gives what there is
    assert store.read_frames(session_id, 990, 5000) == rows[990:]
    assert store.read_frames(session_id, 1000, 2000) == []


def test_read_summaries_give_wire_size_when_known_and_only_the_head_bytes(
    open_store: OpenStore, db_path: Path
) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    # empty payloads have a test of their own below
    rows = [row if row[6] else (*row[:6], b"\x01") for row in varied_rows(21)]
    store.append_frames(session_id, rows)
    for head in (256, 5, 1):
        summaries = store.read_summaries(session_id, 0, 20, head)
        assert [s[0] for s in summaries] == list(range(21))
        for (seq, ts, meta, size, chunk, _length), row in zip(summaries, rows, strict=True):
            payload_length, payload = row[3], row[6]
            assert (seq, ts, meta) == row[:3]
            assert size == (payload_length if payload_length is not None else len(payload)), seq
            assert chunk == payload[:head], seq
            assert isinstance(chunk, bytes)
    # the big frames are cut at the head, the differing wire length wins over the payload length
    big = store.read_summaries(session_id, 2, 2)[0]
    assert big[3] == 302 and big[4] == rows[2][6][:256] and len(big[4]) == 256
    assert store.read_summaries(session_id, 3, 3)[0][3] == 17


def test_read_summaries_of_frames_with_an_empty_payload(open_store: OpenStore, db_path: Path) -> None:
    """An empty ping, an empty text message and a close frame without a code are ordinary frames: the
    table of a stored session must be able to show them."""
    store = open_store(db_path)
    session_id = new_session(store)
    rows: list[FrameRow] = [
        (0, 10, header.pack(OUT, Opcode.PING, True, False, False, False, True), 0, None, None, b""),
        (1, 11, header.pack(IN, Opcode.PONG, True), 0, None, None, b""),
        (2, 12, header.pack(IN, Opcode.TEXT, True), None, None, None, b""),
        (3, 13, header.pack(IN, Opcode.TEXT, True), None, None, None, b"after the empty ones"),
        (4, 14, header.pack(IN, Opcode.CLOSE, True), None, None, "reconstructed", b""),
    ]
    store.append_frames(session_id, rows)
    assert store.read_summaries(session_id, 0, 4) == [
        (0, 10, rows[0][2], 0, b"", 0),
        (1, 11, rows[1][2], 0, b"", 0),
        (2, 12, rows[2][2], 0, b"", 0),
        (3, 13, rows[3][2], 20, b"after the empty ones", 20),
        (4, 14, rows[4][2], 0, b"", 0),
    ]


def test_delete_session_removes_its_frames_only(open_store: OpenStore, db_path: Path) -> None:
    store = open_store(db_path)
    first = new_session(store, "first")
    second = new_session(store, "second")
    third = new_session(store, "third")
    rows_first, rows_second, rows_third = varied_rows(30), varied_rows(20, ts0=9), varied_rows(10, ts0=77)
    store.append_frames(first, rows_first)
    store.append_frames(second, rows_second)
    store.append_frames(third, rows_third)

    store.delete_session(second)
    assert store.session(second) is None
    assert [r.id for r in store.sessions()] == [third, first]
    assert store.stored_frame_count(second) == 0
    assert store.read_frames(second, 0, 100) == []
    assert store.read_frames(first, 0, 100) == rows_first
    assert store.read_frames(third, 0, 100) == rows_third
    left = store.connection.execute("SELECT sum(count) FROM chunks").fetchone()[0]
    assert left == 40
    store.close()
    store = open_store(db_path)
    assert store.read_frames(first, 0, 100) == rows_first
    assert store.read_frames(third, 0, 100) == rows_third
    assert store.integrity_check() == "ok"


def test_recover_interrupted_marks_only_live_sessions_ending_at_their_last_frame(
    open_store: OpenStore, db_path: Path
) -> None:
    store = open_store(db_path)
    crashed = new_session(store, "crashed")
    crashed_empty = new_session(store, "crashed before any frame")
    closed = new_session(store, "closed")
    failed = new_session(store, "failed")
    rows = varied_rows(10, ts0=STARTED_NS + 2_500_000_000)  # the last frame 2.5 s after the start
    store.append_frames(crashed, rows)
    store.append_frames(closed, rows)
    store.finish_session(closed, SessionStatus.CLOSED, STARTED_WALL + 60, 1000, "")
    store.finish_session(failed, SessionStatus.FAILED, STARTED_WALL + 1, None, "Connection refused")
    store.close()  # the app went away without finishing the live ones

    store = open_store(db_path)
    assert sorted(store.recover_interrupted()) == sorted([crashed, crashed_empty])
    by_id = {r.id: r for r in store.sessions()}
    assert by_id[crashed].status == SessionStatus.INTERRUPTED
    assert by_id[crashed].ended_wall == pytest.approx(STARTED_WALL + 2.500_009, abs=1e-6)
    assert by_id[crashed].duration_s == pytest.approx(2.500_009, abs=1e-6)
    assert by_id[crashed_empty].status == SessionStatus.INTERRUPTED
    assert by_id[crashed_empty].ended_wall == STARTED_WALL
    # the others keep what they had
    assert (by_id[closed].status, by_id[closed].ended_wall, by_id[closed].close_code) == (
        SessionStatus.CLOSED, STARTED_WALL + 60, 1000)
    assert (by_id[failed].status, by_id[failed].close_reason) == (SessionStatus.FAILED, "Connection refused")
    # the frames of the interrupted session are kept
    assert store.read_frames(crashed, 0, 100) == rows
    # a second start finds nothing more to recover
    assert store.recover_interrupted() == []


def test_update_session_renames_and_annotates_and_refuses_unknown_fields(
    open_store: OpenStore, db_path: Path
) -> None:
    store = open_store(db_path)
    session_id = new_session(store, "old name")
    other = new_session(store, "other")
    store.update_session(session_id, name="new name ✓", note="line 1\nline 2")
    store.update_session(session_id, subprotocol="graphql-ws")
    with pytest.raises(ValueError, match="status"):
        store.update_session(session_id, status=SessionStatus.CLOSED)
    with pytest.raises(ValueError, match="frames_in"):
        store.update_session(session_id, name="sneaky", frames_in=10**6)
    store.update_session(session_id)  # nothing to change
    store.close()

    store = open_store(db_path)
    record = store.session(session_id)
    assert record is not None
    assert (record.name, record.note, record.subprotocol) == ("new name ✓", "line 1\nline 2", "graphql-ws")
    # a refused update changed nothing, not even the allowed fields given with it
    assert record.status == SessionStatus.LIVE and record.frames_in == 0
    other_record = store.session(other)
    assert other_record is not None and (other_record.name, other_record.note) == ("other", "")


# -- migration ---------------------------------------------------------------------------------------


def test_v1_database_migrates_to_the_current_schema_and_keeps_its_profiles(
    open_store: OpenStore, db_path: Path
) -> None:
    profile = ConnectionProfile(name="Kept from v1 ✓", endpoint=Endpoint("wss://{{host}}/ws"),
                                variables=(("host", "a.example"),), handshake=Handshake(headers=(("X-Token", "t"),)))
    # the form of that time: one flat object, the settings not given taking their defaults
    flat = {"name": profile.name, "url": profile.url, "variables": [["host", "a.example"]],
            "headers": [["X-Token", "t"]]}
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE profiles (id TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT NOT NULL)")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO profiles (id, position, data) VALUES (?, 0, ?)", (profile.id, json.dumps(flat)))
    db.execute("INSERT INTO settings (key, value) VALUES ('theme', 'dark')")
    db.execute("PRAGMA user_version = 1")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.commit()
    db.close()

    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.profiles() == [profile]
    assert store.setting("theme") == "dark"
    assert store.sessions() == []
    session_id = new_session(store)
    store.append_frames(session_id, varied_rows(5))
    store.close()

    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.profiles() == [profile]
    assert store.read_frames(session_id, 0, 10) == varied_rows(5)


def test_frames_stored_a_row_each_by_version_5_move_into_chunks(open_store: OpenStore, db_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    rows = varied_rows(CHUNK_FRAMES + 40)
    gapped = varied_rows(30)
    del gapped[12:15]  # a damaged file may have lost frames: the seqs around the gap keep their numbers
    with monkeypatch.context() as v5:
        v5.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:5])
        v5.setattr(store_module, "SCHEMA_VERSION", 5)
        old = Store(db_path)
        ids = [new_session(old, "long"), new_session(old, "gapped")]
        for session_id, session_rows in zip(ids, (rows, gapped), strict=True):
            old.connection.executemany(
                "INSERT INTO frames (key, ts_ns, meta, payload_length, mask_key, note, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [((session_id << 32) | seq, *rest) for seq, *rest in session_rows])
        old.close()

    store = open_store(db_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.read_frames(ids[0], 0, len(rows)) == rows
    assert store.read_frames(ids[1], 0, 100) == gapped
    assert store.read_frames(ids[0], CHUNK_FRAMES - 2, CHUNK_FRAMES + 1) == rows[CHUNK_FRAMES - 2:CHUNK_FRAMES + 2]
    assert store.stored_frame_count(ids[1]) == 27
    tables = {name for (name,) in store.connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert "frames" not in tables
    assert store.integrity_check() == "ok"


# -- disk full ---------------------------------------------------------------------------------------


def test_disk_full_is_reported_and_what_was_saved_before_stays_readable(
    open_store: OpenStore, db_path: Path
) -> None:
    store = open_store(db_path)
    session_id = new_session(store)
    page_count = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {page_count + 8}")

    saved: list[FrameRow] = []
    seq = 0
    with pytest.raises(StoreError) as raised:
        for _ in range(10_000):
            batch = varied_rows(5, first=seq)
            store.append_frames(session_id, batch)
            saved += batch
            seq += 5
    message = str(raised.value)
    assert "full" in message.lower() and ("database" in message.lower() or "disk" in message.lower()), message
    assert saved, "the database filled up before the first batch: make max_page_count larger"
    # the failed batch left nothing behind, not even in the counters
    record = store.session(session_id)
    assert record is not None and record.frame_count == len(saved)
    assert store.read_frames(session_id, 0, seq + 10) == saved
    store.close()

    store = open_store(db_path)
    assert store.integrity_check() == "ok"
    assert store.read_frames(session_id, 0, seq + 10) == saved
    assert store.stored_frame_count(session_id) == len(saved)
    record = store.session(session_id)
    assert record is not None and record.frame_count == len(saved) and record.last_ts_ns == saved[-1][1]
    # once there is room again, recording can go on where it stopped
    more = varied_rows(5, first=seq)
    store.append_frames(session_id, more)
    assert store.read_frames(session_id, 0, seq + 10) == saved + more


def test_header_runs_read_the_header_columns_alone(open_store: OpenStore, db_path: Path) -> None:
    """The headers of any range, chunk by chunk, as the readers see them."""
    from itertools import pairwise

    from wsinspector.core.model import header

    store = open_store(db_path)
    session_id = new_session(store)
    rows = varied_rows(9000)
    store.append_frames(session_id, rows)
    runs = list(store.header_runs(session_id, 4000, 8200))
    assert len(runs) > 1 and runs[0][0] == 4000
    # one run a chunk, each starting where the one before ended
    assert all(first == before + len(run) for (before, run), (first, _) in pairwise(runs))
    headers = [h for _, run in runs for h in run]
    assert headers == [row[2] & header.HEADER_BITS for row in rows[4000:8201]]
    assert list(store.header_runs(session_id, 10, 9)) == []
