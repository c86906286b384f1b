"""Damaged database files, made by writing bytes into a real SQLite file: what can be read shows, a damaged frame
reads as damaged in its place, nothing raises, and a file damaged past its header is found at start and left as
it was. Session URLs are stored without their secrets."""

from __future__ import annotations

import io
import random
import sqlite3
from pathlib import Path

import pytest

from tests.damage import (
    FRAMES,
    SECRET,
    SECRET_URL,
    STARTED_NS,
    big_file,
    column_of,
    damage_pages,
    make_log,
    recorded_file,
    snapshot,
    where,
    write_into,
)
from wsinspector.core import store as store_module
from wsinspector.core.export import SessionInfo, write_session
from wsinspector.core.filters import FrameFilter
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.redact import REDACTED
from wsinspector.core.store import Store, StoreError
from wsinspector.core.stored import StoredSession


def read_everything(store: Store, session_id: int) -> StoredSession:
    """Every reader of stored frames, over every frame: the timeline's accessors, the detail pane's frame,
    messages, filters and find, RTTs, export. Returns the session for more checks."""
    record = store.session(session_id)
    assert record is not None
    view = StoredSession(store, record)
    for seq in range(len(view)):
        view.ts_ns(seq), view.meta(seq), view.direction(seq), view.opcode(seq), view.size(seq)
        view.payload_head(seq, 100), view.payload_head(seq, 1000), view.note(seq), view.data_opcode(seq)
        view.message_for(seq), view.relative_us(seq), view.rtt_ns(seq), view.is_unsolicited(seq)
        header.fields(view.meta(seq))
        assert view.frame(seq).seq == seq
    list(view.iter_messages())
    list(view.scan(0, len(view)))
    for flt in (FrameFilter(text="e"), FrameFilter(text="E", case_sensitive=True), FrameFilter(regex="fr.me"),
                FrameFilter(opcodes=frozenset({Opcode.TEXT})), FrameFilter(directions=frozenset({Direction.IN}))):
        view.match_seqs(flt, 0, len(view))
    view.seq_at_or_after(STARTED_NS + 5_000)
    assert isinstance(view.rtt_samples, list)
    out = io.StringIO()
    for _ in write_session(out, SessionInfo("damaged-one", record.url, record.started_wall),
                           view.frames(0, len(view) - 1), record.started_ns):
        pass
    return view


# -- a damaged value inside a chunk -----------------------------------------------------------------------


BAD_HEADERS = [
    *(op | (1 << 5) for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)),  # opcodes RFC 6455 reserves
    int(Opcode.TEXT) | (0b11 << 5),  # a FIN field with the value no two-bit field has
    int(Opcode.TEXT) | (0b11 << 13),  # the same in the masked field
    int(Opcode.BINARY) | (1 << 15),  # a bit the store never writes
    int(Opcode.TEXT) | 0xFF00_0000,  # the high bytes of the integer
    0xFFFF_FFFF,
]


@pytest.mark.parametrize("bad", BAD_HEADERS, ids=hex)
def test_a_flipped_header_reads_as_a_damaged_frame_in_its_place(data_dir: Path, bad: int) -> None:
    path = data_dir / "wsinspector.sqlite3"
    log = make_log()
    session_id = recorded_file(path, log)
    meta = column_of(path, "meta")
    write_into(path, where(path, meta) + 4 * 7, bad.to_bytes(4, "little"))

    store = Store(path)  # SQLite's own check cannot see inside a BLOB: the file opens
    try:
        view = read_everything(store, session_id)
        assert len(view) == len(log)
        damaged = view.frame(7)
        assert damaged.damaged and "damaged" in damaged.note
        assert damaged.payload == log.frame(7).payload  # what it carried is still shown
        assert header.damaged(view.meta(7))
        for seq in (6, 8, len(log) - 1):
            assert view.frame(seq) == log.frame(seq)  # its neighbours read as recorded
        assert not any(7 in message.seqs for message in view.iter_messages())
    finally:
        store.close()


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_written_over_a_chunk_never_raise(data_dir: Path, seed: int) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    rng = random.Random(seed)
    column = rng.choice(["ts", "meta", "ends", "payload"])
    start = where(path, column_of(path, column)) - rng.randrange(0, 24)  # the cell's record header too
    for _ in range(rng.randrange(1, 12)):
        write_into(path, start + rng.randrange(0, 120), rng.randbytes(rng.randrange(1, 6)))
    try:
        store = Store(path)
    except StoreError as exc:
        assert "damaged" in str(exc)  # SQLite's check saw it: refused at start, which is also fine
        return
    try:
        read_everything(store, session_id)
    finally:
        store.close()


def test_a_truncated_blob_shows_the_frames_it_still_holds_and_marks_the_rest(data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    log = make_log()
    session_id = recorded_file(path, log)
    db = sqlite3.connect(path)
    db.execute("UPDATE chunks SET ends = substr(ends, 1, 8 * 10 + 3)")
    db.commit()
    db.close()
    store = Store(path)
    try:
        view = read_everything(store, session_id)
        assert len(view) == len(log)  # the session's counters say how many there were
        assert view.frame(9) == log.frame(9)
        assert view.frame(10).damaged and view.frame(len(log) - 1).damaged
        assert header.damaged(view.meta(12))
    finally:
        store.close()


# -- damaged pages of the file ------------------------------------------------------------------------------


def test_damaged_pages_are_found_at_start_and_the_file_is_left_untouched(data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    big_file(path)
    size = path.stat().st_size
    assert size > 40 * 4096
    write_into(path, (size // 2 // 4096) * 4096, random.Random(3).randbytes(4096))  # a page in the middle
    before = snapshot(data_dir)

    with pytest.raises(StoreError, match=r"damaged.*left untouched"):
        Store(path)
    assert snapshot(data_dir) == before


def test_damaged_pages_the_start_check_did_not_reach_read_as_damaged_frames(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = big_file(path)
    damage_pages(path, path.stat().st_size // 4096 * 2 // 3)  # the last chunk's pages
    monkeypatch.setattr(store_module, "CHECK_BYTES", 4096)  # a file too large to check whole at start
    store = Store(path)
    try:
        view = read_everything(store, session_id)
        assert view.read_error
        assert view.frame(0).payload.startswith(b"frame 000")
        before = path.read_bytes()
        # damage seen: nothing more is written into the file, and saving says why
        with pytest.raises(StoreError, match=r"damaged.*left untouched: nothing more is saved"):
            store.create_session("after the damage", "ws://127.0.0.1:1/", 0.0, 0)
        with pytest.raises(StoreError, match="damaged"):
            store.append_live(session_id, make_log(), 0, 3)
    finally:
        store.close()
    assert path.read_bytes() == before


def test_a_damaged_sessions_row_is_listed_and_opens(data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET started_wall = x'00ff', frames_in = 'many', ended_wall = 'later', "
               "close_code = 1.5e300, last_ts_ns = x'01'")
    db.commit()
    db.close()
    name_at = where(path, b"damaged-one")
    write_into(path, name_at, b"\xff\xfe\xc3")  # no longer UTF-8

    store = Store(path)
    try:
        (record,) = store.sessions()
        assert record.id == session_id and record.name.endswith("aged-one") and record.started_wall == 0.0
        assert record.duration_s is None or record.duration_s >= 0
        read_everything(store, session_id)
    finally:
        store.close()


# -- secrets are not stored ---------------------------------------------------------------------------------


def test_a_session_url_is_stored_without_its_secrets(data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path, url=SECRET_URL)
    store = Store(path)
    try:
        record = store.session(session_id)
        assert record is not None
        assert record.url == f"wss://alice:{REDACTED}@api.example.com/feed?room=7&access_token={REDACTED}#top"
        store.update_session(session_id, url=SECRET_URL)
        assert store.session(session_id) == record
    finally:
        store.close()
    for data in snapshot(data_dir).values():
        assert SECRET.encode() not in data and b"pa55word" not in data


def test_urls_stored_before_are_redacted_when_the_database_is_upgraded(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "wsinspector.sqlite3"
    with monkeypatch.context() as old:
        old.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:7])
        old.setattr(store_module, "SCHEMA_VERSION", 7)
        session_id = recorded_file(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET url = ?", (SECRET_URL,))
    db.commit()
    db.close()

    store = Store(path)
    try:
        record = store.session(session_id)
        assert record is not None and SECRET not in record.url and REDACTED in record.url
    finally:
        store.close()
    for data in snapshot(data_dir).values():
        assert SECRET.encode() not in data  # not left behind in the page's free space either


def test_every_stored_header_the_store_could_not_have_written_is_found_damaged() -> None:
    np = pytest.importorskip("numpy")
    values = np.concatenate([np.arange(1 << 16, dtype=np.uint32), np.arange(1 << 16, dtype=np.uint32) | (1 << 17),
                             np.array([1 << 16, 1 << 18, 1 << 31, 0xFFFF_FFFF], dtype=np.uint32)])
    valid_opcodes = {int(op) for op in Opcode}

    def written(value: int) -> bool:  # a value some frame packs to, as the store keeps it
        fields_ok = all((value >> shift) & 0b11 != 0b11 for _, shift in header.TRI_FIELDS)
        return value & 0xF in valid_opcodes and fields_ok and value & ~header.STORED_BITS == 0 \
            and not value & (1 << 15)

    found = header.damaged_column(values) != 0
    assert [bool(b) for b in found] == [not written(int(v)) for v in values]
    assert not header.damaged_column(np.array([header.of_frame(f) for f in make_log().frames(0, FRAMES - 1)],
                                              dtype=np.uint32)).any()


@pytest.mark.parametrize(("found", "written"), [
    (b"NOT NULL DEFAULT 0,\n            frames_out", b"NOT \xcb\xff"),  # SQLite's message quotes bytes not UTF-8
    (b"PRIMARY KEY,\n            position", b"PRIM\xcb\xff))"),
    (b"key INTEGER PRIMARY KEY,\n    count", b"key \xcb\xff, ,"),
])
def test_a_schema_damaged_into_bytes_that_are_not_text_is_refused_and_left_untouched(
        data_dir: Path, found: bytes, written: bytes) -> None:
    path = data_dir / "wsinspector.sqlite3"
    recorded_file(path)
    write_into(path, where(path, found), written)
    before = snapshot(data_dir)
    with pytest.raises(StoreError, match=r"damaged.*left untouched"):
        Store(path)
    assert snapshot(data_dir) == before


def _two_profiles(path: Path) -> list[str]:
    store = Store(path)
    try:
        for name in ("Kept", "Damaged"):
            store.save_profile(ConnectionProfile(name=name, endpoint=Endpoint(f"ws://127.0.0.1:1/{name}")))
        return [p.id for p in store.profiles()]
    finally:
        store.close()


@pytest.mark.parametrize("damage", ["bytes", "type"])
def test_a_damaged_saved_connection_is_left_out_and_left_as_it_was(data_dir: Path, damage: str) -> None:
    path = data_dir / "wsinspector.sqlite3"
    kept, damaged = _two_profiles(path)
    if damage == "bytes":
        write_into(path, where(path, b'"url": "ws://127.0.0.1:1/Damaged"'), b"\xff{{")
    else:
        db = sqlite3.connect(path)
        db.execute("UPDATE profiles SET data = x'00ff' WHERE id = ?", (damaged,))
        db.commit()
        db.close()
    store = Store(path)
    try:
        assert [p.id for p in store.profiles()] == [kept]
        (why,) = store.unreadable_profiles
        assert "saved connection" in why and damaged in why
        stored = store.connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
        assert stored == 2  # nothing deleted
    finally:
        store.close()
