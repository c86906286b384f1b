"""SQLite store: schema and migrations (PRAGMA user_version), saved connection profiles.

The file is never deleted or overwritten when it cannot be used: a corrupt, foreign or newer-schema
database raises :class:`StoreError` with a message for the user, and the file stays as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsinspector.core.frames import META_DIRECTION_SHIFT
from wsinspector.core.profiles import ConnectionProfile

if TYPE_CHECKING:
    from wsinspector.core.log import FrameLog

APPLICATION_ID = 0x77736931  # "wsi1": marks a database as ours


class StoreError(RuntimeError):
    """The store cannot be used; the message says why in the user's terms."""


class SessionStatus:
    LIVE = "live"
    #: recording stopped before the session ended (disk full, session deleted)
    INCOMPLETE = "incomplete"
    #: an import under way; left over only if the app stopped during an import, and removed at the next start
    IMPORTING = "importing"
    CLOSED = "closed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    IMPORTED = "imported"


SEQ_BITS = 32
SEQ_MASK = (1 << SEQ_BITS) - 1


def frame_key(session_id: int, seq: int) -> int:
    return (session_id << SEQ_BITS) | seq


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    profile_id: str | None
    name: str
    url: str
    note: str
    started_wall: float
    started_ns: int
    ended_wall: float | None
    status: str
    close_code: int | None
    close_reason: str
    subprotocol: str
    frames_in: int
    frames_out: int
    bytes_in: int
    bytes_out: int
    last_ts_ns: int | None
    #: the test file this session is a replay of (its path, or its name); None for a live or imported session
    replay_of: str | None = None

    @property
    def frame_count(self) -> int:
        return self.frames_in + self.frames_out

    @property
    def duration_s(self) -> float | None:
        if self.ended_wall is not None:
            return max(0.0, self.ended_wall - self.started_wall)
        if self.last_ts_ns is not None:
            return max(0.0, (self.last_ts_ns - self.started_ns) / 1e9)
        return None


_SESSION_COLUMNS = ", ".join(SessionRecord.__dataclass_fields__)

#: one stored frame: seq, ts_ns, meta, payload_length, mask_key, note, payload
FrameRow = tuple[int, int, int, int | None, bytes | None, str | None, bytes]


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


#: MIGRATIONS[i] brings a database from user_version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)

_PROFILE_FIELDS = {f for f in ConnectionProfile.__dataclass_fields__}


def profile_to_json(profile: ConnectionProfile) -> str:
    data: dict[str, Any] = {
        "name": profile.name,
        "url": profile.url,
        "headers": [list(h) for h in profile.headers],
        "subprotocols": list(profile.subprotocols),
        "origin": profile.origin,
        "variables": [list(v) for v in profile.variables],
        "handshake_timeout_s": profile.handshake_timeout_s,
        "max_message_size": profile.max_message_size,
        "max_frame_size": profile.max_frame_size,
        "heartbeat_interval_s": profile.heartbeat_interval_s,
        "heartbeat_timeout_s": profile.heartbeat_timeout_s,
        "heartbeat_action": profile.heartbeat_action,
        "reconnect": profile.reconnect,
        "reconnect_max_attempts": profile.reconnect_max_attempts,
        "reconnect_base_s": profile.reconnect_base_s,
        "reconnect_max_s": profile.reconnect_max_s,
        "engine": profile.engine,
        "deflate": profile.deflate,
        "deflate_server_max_window_bits": profile.deflate_server_max_window_bits,
        "deflate_client_max_window_bits": profile.deflate_client_max_window_bits,
        "deflate_server_no_context_takeover": profile.deflate_server_no_context_takeover,
        "deflate_client_no_context_takeover": profile.deflate_client_no_context_takeover,
        "auto_pong": profile.auto_pong,
        "close_timeout_s": profile.close_timeout_s,
        "builtin": profile.builtin,
    }
    return json.dumps(data, ensure_ascii=False)


def profile_from_json(profile_id: str, text: str) -> ConnectionProfile:
    data = json.loads(text)
    known = {k: v for k, v in data.items() if k in _PROFILE_FIELDS}
    for key in ("headers", "variables"):
        if key in known:
            known[key] = tuple((str(a), str(b)) for a, b in known[key])
    if "subprotocols" in known:
        known["subprotocols"] = tuple(str(p) for p in known["subprotocols"])
    return ConnectionProfile(id=profile_id, **known)


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if path != ":memory:" else None
        target = str(path)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the data folder {self.path.parent}: {exc.strerror}") from None
        try:
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=True)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {path}: {exc}") from None
        try:
            self._check_and_migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise StoreError(
                    f"{path} is not a wsinspector database or is damaged ({exc}); it was left untouched"
                ) from None
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreError(f"{path} is read-only; wsinspector needs to write there") from None
            raise StoreError(f"Cannot use {path}: {exc}") from None
        except StoreError:
            self._db.close()
            raise

    def _check_and_migrate(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()[0]
        if tables and app_id != APPLICATION_ID:
            raise StoreError(f"{self.path} is an SQLite database of another program; it was left untouched")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer wsinspector (schema {version}, this version "
                f"understands up to {SCHEMA_VERSION}); it was left untouched"
            )
        # SQLite silently opens a read-only file read-only: find out now, not at the first save, and without
        # writing anything (a damaged file must stay exactly as it was). WAL also needs to write the folder.
        if self.path is not None and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
            raise StoreError(f"{self.path} is read-only; wsinspector needs to write there")
        if self.path is not None:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        while version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[version](db)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # -- profiles ---------------------------------------------------------------------------------

    def profiles(self) -> list[ConnectionProfile]:
        rows = self._db.execute("SELECT id, data FROM profiles ORDER BY position, rowid").fetchall()
        return [profile_from_json(pid, data) for pid, data in rows]

    def save_profile(self, profile: ConnectionProfile) -> None:
        """Insert or update; a new profile goes to the end of the list."""
        with self._transaction():
            exists = self._db.execute("SELECT 1 FROM profiles WHERE id = ?", (profile.id,)).fetchone()
            if exists:
                self._db.execute(
                    "UPDATE profiles SET data = ? WHERE id = ?", (profile_to_json(profile), profile.id)
                )
            else:
                position = self._db.execute("SELECT coalesce(max(position), -1) + 1 FROM profiles").fetchone()[0]
                self._db.execute(
                    "INSERT INTO profiles (id, position, data) VALUES (?, ?, ?)",
                    (profile.id, position, profile_to_json(profile)),
                )

    def delete_profile(self, profile_id: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))

    def reorder_profiles(self, ids: Sequence[str]) -> None:
        with self._transaction():
            for position, pid in enumerate(ids):
                self._db.execute("UPDATE profiles SET position = ? WHERE id = ?", (position, pid))

    # -- sessions ---------------------------------------------------------------------------------

    def create_session(self, name: str, url: str, started_wall: float, started_ns: int,
                       profile_id: str | None = None, status: str = SessionStatus.LIVE,
                       replay_of: str | None = None) -> int:
        """A new session; ``replay_of`` names the test file it replays, when it does."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO sessions (profile_id, name, url, started_wall, started_ns, status, replay_of) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (profile_id, name, url, started_wall, started_ns, status, replay_of),
            )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def append_frames(self, session_id: int, rows: Sequence[FrameRow]) -> None:
        """Store a batch of frames and the session's counters in one transaction."""
        if not rows:
            return
        base = session_id << SEQ_BITS
        frames_in = frames_out = bytes_in = bytes_out = 0
        for row in rows:
            if (row[2] >> META_DIRECTION_SHIFT) & 1:
                frames_out += 1
                bytes_out += len(row[6])
            else:
                frames_in += 1
                bytes_in += len(row[6])
        keyed = [(base | seq, ts, meta, length, key, note, payload) for seq, ts, meta, length, key, note, payload
                 in rows]
        self.append_keyed_frames(session_id, keyed, (frames_in, frames_out, bytes_in, bytes_out))

    def append_from_log(self, session_id: int, log: FrameLog, first: int, last: int) -> None:
        """Frames ``first``..``last`` of a live log (a recorder's flush), in one transaction."""
        self.append_keyed_frames(session_id, log.rows(first, last, frame_key(session_id, 0)), log.counts(first, last))

    def append_keyed_frames(self, session_id: int, rows: Sequence[FrameRow], counts: tuple[int, int, int, int]) -> None:
        """The recorder's fast path: rows already keyed (``frame_key(session_id, seq)`` in place of the seq) and
        the batch's (frames in, frames out, bytes in, bytes out) already counted."""
        if not rows:
            return
        frames_in, frames_out, bytes_in, bytes_out = counts
        with self._transaction():
            self._db.executemany(
                "INSERT INTO frames (key, ts_ns, meta, payload_length, mask_key, note, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            updated = self._db.execute(
                "UPDATE sessions SET frames_in = frames_in + ?, frames_out = frames_out + ?, "
                "bytes_in = bytes_in + ?, bytes_out = bytes_out + ?, last_ts_ns = ? WHERE id = ?",
                (frames_in, frames_out, bytes_in, bytes_out, rows[-1][1], session_id),
            ).rowcount
            if updated == 0:
                raise StoreError("the session was deleted")  # rolls the frames back: no orphans

    def finish_session(self, session_id: int, status: str, ended_wall: float | None, close_code: int | None = None,
                       close_reason: str = "") -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE sessions SET status = ?, ended_wall = ?, close_code = ?, close_reason = ? WHERE id = ?",
                (status, ended_wall, close_code, close_reason, session_id),
            )

    def update_session(self, session_id: int, **fields: object) -> None:
        allowed = {"name", "note", "subprotocol", "url"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction():
            self._db.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", (*fields.values(), session_id))

    def recover_interrupted(self) -> list[int]:
        """Sessions still marked live were cut short (crash, kill): mark them interrupted, ending at their last
        stored frame. Half-done imports are removed. Returns the ids of the interrupted sessions."""
        for (partial,) in self._db.execute("SELECT id FROM sessions WHERE status = ?",
                                           (SessionStatus.IMPORTING,)).fetchall():
            self.delete_session(partial)
        ids = [row[0] for row in self._db.execute("SELECT id FROM sessions WHERE status = ?", (SessionStatus.LIVE,))]
        if ids:
            with self._transaction():
                self._db.execute(
                    "UPDATE sessions SET status = ?, ended_wall = started_wall + "
                    "coalesce(last_ts_ns - started_ns, 0) / 1e9 WHERE status = ?",
                    (SessionStatus.INTERRUPTED, SessionStatus.LIVE),
                )
        return ids

    def sessions(self) -> list[SessionRecord]:
        rows = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY started_wall DESC, id DESC")
        return [SessionRecord(*row) for row in rows]

    def session(self, session_id: int) -> SessionRecord | None:
        row = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else SessionRecord(*row)

    def delete_session(self, session_id: int) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM frames WHERE key BETWEEN ? AND ?",
                             (session_id << SEQ_BITS, (session_id << SEQ_BITS) | SEQ_MASK))
            self._db.execute("DELETE FROM session_events WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def add_event(self, session_id: int, seq: int, ts_ns: int, kind: str, text: str) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO session_events (session_id, seq, ts_ns, kind, text) VALUES (?, ?, ?, ?, ?)",
                             (session_id, seq, ts_ns, kind, text))

    def events(self, session_id: int) -> list[tuple[int, int, str, str]]:
        """(seq of the next frame, monotonic ns, kind, text) of a session's connection events, in order."""
        rows = self._db.execute("SELECT seq, ts_ns, kind, text FROM session_events WHERE session_id = ? "
                                "ORDER BY seq, rowid", (session_id,))
        return [(int(a), int(b), str(c), str(d)) for a, b, c, d in rows]

    def stored_frame_count(self, session_id: int) -> int:
        """Frames actually stored (the session's counters say the same unless the file was damaged)."""
        row = self._db.execute("SELECT count(*) FROM frames WHERE key BETWEEN ? AND ?",
                               (session_id << SEQ_BITS, (session_id << SEQ_BITS) | SEQ_MASK)).fetchone()
        return int(row[0])

    def read_frames(self, session_id: int, first: int, last: int) -> list[FrameRow]:
        """Frames ``first``..``last`` (inclusive) of a session, in order."""
        base = session_id << SEQ_BITS
        rows = self._db.execute(
            "SELECT key, ts_ns, meta, payload_length, mask_key, note, payload FROM frames "
            "WHERE key BETWEEN ? AND ? ORDER BY key", (base | first, base | last))
        return [(key & SEQ_MASK, ts, meta, length, mask, note, payload)
                for key, ts, meta, length, mask, note, payload in rows]

    def read_summaries(self, session_id: int, first: int, last: int,
                       head: int = 256) -> list[tuple[int, int, int, int, bytes]]:
        """(seq, ts_ns, meta, size, first ``head`` payload bytes) for a page of the table: no full payloads."""
        base = session_id << SEQ_BITS
        rows = self._db.execute(
            "SELECT key, ts_ns, meta, coalesce(payload_length, length(payload)), substr(payload, 1, ?) "
            "FROM frames WHERE key BETWEEN ? AND ? ORDER BY key", (head, base | first, base | last))
        # substr() of an empty BLOB is NULL, not an empty BLOB
        return [(key & SEQ_MASK, ts, meta, size, bytes(p or b"")) for key, ts, meta, size, p in rows]

    def scan_frames(self, session_id: int, first: int, last: int) -> Iterator[tuple[int, int, bytes]]:
        """(seq, meta, payload) for filtering."""
        base = session_id << SEQ_BITS
        rows = self._db.execute("SELECT key, meta, payload FROM frames WHERE key BETWEEN ? AND ? ORDER BY key",
                                (base | first, base | last))
        return ((key & SEQ_MASK, meta, payload) for key, meta, payload in rows)

    def query_seqs(self, session_id: int, where: str, params: Iterable[object], first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` whose frame satisfies ``where`` (over columns meta and payload)."""
        base = session_id << SEQ_BITS
        rows = self._db.execute(f"SELECT key FROM frames WHERE key BETWEEN ? AND ? AND ({where}) ORDER BY key",
                                (base | first, base | last, *params))
        return [key & SEQ_MASK for (key,) in rows]

    def query_seqs_with_payload(self, session_id: int, where: str, params: Iterable[object], first: int,
                                last: int) -> list[tuple[int, int, int, bytes]]:
        """(seq, ts_ns, meta, payload) of the frames in ``first``..``last`` that satisfy ``where``."""
        base = session_id << SEQ_BITS
        rows = self._db.execute(
            f"SELECT key, ts_ns, meta, payload FROM frames WHERE key BETWEEN ? AND ? AND ({where}) ORDER BY key",
            (base | first, base | last, *params))
        return [(key & SEQ_MASK, ts, meta, bytes(payload or b"")) for key, ts, meta, payload in rows]

    def seq_at_or_after(self, session_id: int, ts_ns: int) -> int | None:
        base = session_id << SEQ_BITS
        row = self._db.execute("SELECT min(key) FROM frames WHERE key BETWEEN ? AND ? AND ts_ns >= ?",
                               (base, base | SEQ_MASK, ts_ns)).fetchone()
        return None if row[0] is None else int(row[0]) & SEQ_MASK

    @property
    def connection(self) -> sqlite3.Connection:
        """For registering SQL functions (filters); not for writing around the store."""
        return self._db

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- settings ---------------------------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise StoreError(f"Could not save: {err}") from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"Could not save: {err}") from None
        else:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"Could not save: {exc}") from None

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
