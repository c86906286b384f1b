"""The store's SQLite schema, version by version: each migration brings a database from one ``PRAGMA
user_version`` to the next (``MIGRATIONS``), and how frames are keyed and written as chunks."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from wsinspector.core.chunks import FrameRow, PackedChunk, pack_rows, runs
from wsinspector.core.profiles import upgrade_v1
from wsinspector.core.redact import redact_url

SEQ_BITS = 32
SEQ_MASK = (1 << SEQ_BITS) - 1


def frame_key(session_id: int, seq: int) -> int:
    return (session_id << SEQ_BITS) | seq


def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE profiles (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v2(db: sqlite3.Connection) -> None:
    """Recorded sessions and their frames.

    A frame's key is ``session_id << 32 | seq``: the rowid itself, so paging a session, counting and
    deleting it are range scans of the primary key.
    """
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            profile_id TEXT,
            name TEXT NOT NULL,
            url TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            started_wall REAL NOT NULL,
            started_ns INTEGER NOT NULL,
            ended_wall REAL,
            status TEXT NOT NULL,
            close_code INTEGER,
            close_reason TEXT NOT NULL DEFAULT '',
            subprotocol TEXT NOT NULL DEFAULT '',
            frames_in INTEGER NOT NULL DEFAULT 0,
            frames_out INTEGER NOT NULL DEFAULT 0,
            bytes_in INTEGER NOT NULL DEFAULT 0,
            bytes_out INTEGER NOT NULL DEFAULT 0,
            last_ts_ns INTEGER
        )"""
    )
    db.execute(
        """CREATE TABLE frames (
            key INTEGER PRIMARY KEY,
            ts_ns INTEGER NOT NULL,
            meta INTEGER NOT NULL,
            payload_length INTEGER,
            mask_key BLOB,
            note TEXT,
            payload BLOB NOT NULL
        )"""
    )


def _v3(db: sqlite3.Connection) -> None:
    """Session ids are never reused: frames of a deleted session can never be mistaken for a new one's."""
    columns = [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
    create = db.execute("SELECT sql FROM sqlite_schema WHERE name = 'sessions'").fetchone()[0]
    db.execute(create.replace("CREATE TABLE sessions", "CREATE TABLE sessions_v3", 1)
               .replace("id INTEGER PRIMARY KEY", "id INTEGER PRIMARY KEY AUTOINCREMENT", 1))
    listed = ", ".join(columns)
    db.execute(f"INSERT INTO sessions_v3 ({listed}) SELECT {listed} FROM sessions")
    db.execute("DROP TABLE sessions")
    db.execute("ALTER TABLE sessions_v3 RENAME TO sessions")


def _v4(db: sqlite3.Connection) -> None:
    """Connection events of a session (disconnects, reconnects, heartbeat timeouts), with the seq of the next
    frame, so a reopened session shows its gaps and markers as the live one did."""
    db.execute(
        """CREATE TABLE session_events (
            session_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            ts_ns INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX session_events_by_session ON session_events (session_id, seq)")


def _v5(db: sqlite3.Connection) -> None:
    """A session recorded while replaying a test file names the test (its path, or its name)."""
    db.execute("ALTER TABLE sessions ADD COLUMN replay_of TEXT")


_CREATE_CHUNKS = """CREATE TABLE chunks (
    key INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    last_ts_ns INTEGER NOT NULL,
    ts BLOB NOT NULL,
    meta BLOB NOT NULL,
    ends BLOB NOT NULL,
    payload BLOB NOT NULL,
    extras TEXT
)"""
INSERT_CHUNK = ("INSERT OR REPLACE INTO chunks (key, count, last_ts_ns, ts, meta, ends, payload, extras) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def chunk_values(session_id: int, chunk: PackedChunk) -> tuple[object, ...]:
    return (frame_key(session_id, chunk.first), chunk.count, chunk.last_ts_ns, chunk.ts, chunk.meta, chunk.ends,
            chunk.payload, chunk.extras)


def _v6(db: sqlite3.Connection) -> None:
    """Frames are stored in chunks of consecutive frames, column by column (see core/chunks.py), not a row
    each: a row per frame cost SQLite more than receiving the frame. A chunk's key is ``session_id << 32 |``
    the seq of its first frame. The frames of older versions move into chunks here."""
    db.execute(_CREATE_CHUNKS)
    rows = db.execute("SELECT key, ts_ns, meta, payload_length, mask_key, note, payload FROM frames ORDER BY key")
    while True:
        batch = rows.fetchmany(20_000)
        if not batch:
            break
        by_session: dict[int, list[FrameRow]] = {}
        for key, ts, meta, length, mask, note, payload in batch:
            by_session.setdefault(key >> SEQ_BITS, []).append(
                (key & SEQ_MASK, ts, meta, length, mask, note, bytes(payload or b"")))
        for session_id, session_rows in by_session.items():
            db.executemany(INSERT_CHUNK, [chunk_values(session_id, pack_rows(run)) for run in runs(session_rows)])
    db.execute("DROP TABLE frames")


def _v7(db: sqlite3.Connection) -> None:
    """Saved connections are stored as records with a version (``{"version": 2, "endpoint": {"url": ...},
    "handshake": {...}, ...}``) instead of one flat object; every setting moves into its record, and keys this
    version does not know stay where they were."""
    rows = db.execute("SELECT id, data FROM profiles").fetchall()
    for profile_id, data in rows:
        try:
            flat = json.loads(data)
        except ValueError:
            continue  # not readable before either: left for the user to see, not lost here
        if isinstance(flat, dict) and "version" not in flat:
            db.execute("UPDATE profiles SET data = ? WHERE id = ?",
                       (json.dumps(upgrade_v1(flat), ensure_ascii=False), profile_id))


def _v8(db: sqlite3.Connection) -> None:
    """A session's URL is stored with its secrets replaced (``core/redact.py``, as exports write it): a token in
    the query or a password in the user info is not kept at rest. The URLs stored before are redacted here."""
    rows = db.execute("SELECT id, url FROM sessions").fetchall()
    db.execute("PRAGMA secure_delete = ON")  # the old text is overwritten, not left in the page's free space
    try:
        for session_id, url in rows:
            if isinstance(url, str) and redact_url(url) != url:
                db.execute("UPDATE sessions SET url = ? WHERE id = ?", (redact_url(url), session_id))
    finally:
        db.execute("PRAGMA secure_delete = OFF")


def _v9(db: sqlite3.Connection) -> None:
    """The composer's history: each message sent from it, as typed (its ``{{variables}}`` and dynamic values
    not expanded, so a secret's value is not kept), by connection; the newest ``HISTORY_KEEP`` of each."""
    db.execute(
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            profile_id TEXT NOT NULL,
            sent_wall REAL NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX history_by_profile ON history (profile_id, id)")


#: MIGRATIONS[i] brings a database from user_version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9]
SCHEMA_VERSION = len(MIGRATIONS)
