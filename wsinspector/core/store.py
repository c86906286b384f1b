"""SQLite store: opening and checking the file (its schema and migrations are in ``core/schema.py``), saved
connection profiles, sessions and their frames.

The file is never deleted or overwritten when it cannot be used: a corrupt, foreign or newer-schema
database raises :class:`StoreError` with a message for the user, and the file stays as it was.
"""

from __future__ import annotations

import math
import os
import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector.core.chunks import (
    CHUNK_FRAMES,
    OPEN_BYTES,
    OPEN_FRAMES,
    Chunk,
    FrameRow,
    PackedChunk,
    from_le,
    pack_columns,
    pack_rows,
    runs,
    seqs_in,
)
from wsinspector.core.filters import FrameFilter, chunk_matches
from wsinspector.core.model import header
from wsinspector.core.profiles import (
    PROFILE_VERSION,
    ConnectionProfile,
    ProfileFormatError,
    profile_from_json,
    profile_to_json,
)
from wsinspector.core.redact import redact_url
from wsinspector.core.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SEQ_BITS,
    SEQ_MASK,
    frame_key,
)
from wsinspector.core.writer import CHUNK_BYTES_SQL, FrameWriter, SessionGone, Write, write_chunks

if TYPE_CHECKING:
    from wsinspector.core.session.interface import FrameColumns

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


#: decoded chunks the store keeps (at most CHUNK_BYTES of payload each)
CACHED_CHUNKS = 16


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


def _text(value: object, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return default if value is None else str(value)


def _opt_int(value: object) -> int | None:
    """An integer column; None for a NULL, or a value of another type a damaged file holds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return None


def _opt_float(value: object) -> float | None:
    """A real column; None for a NULL, or a value of another type a damaged file holds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


#: the wall-clock times a record can hold: from the epoch to the end of year 9999 (what a calendar can show)
_LAST_WALL = 253_402_300_799.0


def _opt_wall(value: object) -> float | None:
    """A wall-clock time column; None for a NULL, or a value a damaged file holds in another type or out of
    any calendar."""
    wall = _opt_float(value)
    return wall if wall is not None and 0.0 <= wall <= _LAST_WALL else None


def _record(row: Sequence[object]) -> SessionRecord:
    """A sessions row as a record; a field a damaged file holds in the wrong type reads as its default (no
    frames, no end, an empty text), so a damaged row shows in the list instead of failing it."""
    (session_id, profile_id, name, url, note, started_wall, started_ns, ended_wall, status, close_code,
     close_reason, subprotocol, frames_in, frames_out, bytes_in, bytes_out, last_ts_ns, replay_of) = row
    return SessionRecord(
        _opt_int(session_id) or 0, None if profile_id is None else _text(profile_id),
        _text(name, f"session {session_id}"), _text(url), _text(note), _opt_wall(started_wall) or 0.0,
        _opt_int(started_ns) or 0, _opt_wall(ended_wall), _text(status, SessionStatus.INCOMPLETE),
        _opt_int(close_code), _text(close_reason), _text(subprotocol), _opt_int(frames_in) or 0,
        _opt_int(frames_out) or 0, _opt_int(bytes_in) or 0, _opt_int(bytes_out) or 0, _opt_int(last_ts_ns),
        None if replay_of is None else _text(replay_of))
__all__ = ["SCHEMA_VERSION", "SEQ_MASK", "FrameRow", "SessionRecord", "SessionStatus", "Store", "StoreError",
           "frame_key"]


#: the size the write-ahead log is cut back to once checkpointed (and over which the app asks for a checkpoint)
WAL_LIMIT_BYTES = 4 * 1024 * 1024

#: the largest file checked whole at start (PRAGMA quick_check reads every page: about 0.1 s for 84 MB, a million
#: frames, when the file is in the OS's cache). A larger file has every table checked but the chunks of frames,
#: whose damage the readers show frame by frame: its start stays as quick.
CHECK_BYTES = 128 << 20
#: the lines of SQLite's check a message quotes
_CHECK_LINES = 3


def _is_read_failure(exc: sqlite3.DatabaseError) -> bool:
    """A read failed on the file (a damaged page, an I/O error), not on our use of the connection."""
    return not isinstance(exc, sqlite3.ProgrammingError)


#: what SQLite says when a page it reads is not what it wrote (the primary result codes)
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


#: what a stored chunk's frames take, in SQL (the Python twin: ``core/writer.py``'s ``chunk_bytes``)
_CHUNK_BYTES = CHUNK_BYTES_SQL


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if path != ":memory:" else None
        target = str(path)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the data folder {self.path.parent}: {exc.strerror}") from None
        #: decoded chunks, by key, most recently used last
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        #: the last read that failed on a damaged part of the file, in the user's terms ("" none so far), and
        #: how many have failed
        self.read_error = ""
        self.read_errors = 0
        #: damage found while reading (after the check at start): from then on nothing is written to the file
        self.damage = ""
        #: why saved connections were left out of the last :meth:`profiles`
        self.unreadable_profiles: list[str] = []
        #: each session's stored bytes, measured once and kept up to date as chunks are written and sessions
        #: deleted (None: not measured yet); measured again when another connection has written to the file
        self._sizes: dict[int, int] | None = None
        self._sizes_version = -1
        #: the thread writing live frames, once started (:meth:`start_writer`); what it has committed of each
        #: session (the last seq), and why it could not, if it failed
        self._writer: FrameWriter | None = None
        self._stored_last: dict[int, int] = {}
        self._write_errors: dict[int, str] = {}
        try:
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=True)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {path}: {exc}") from None
        # a text a damaged file holds as bytes that are not UTF-8 reads with replacement characters, not an error
        self._db.text_factory = lambda data: data.decode("utf-8", errors="replace")
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
        except UnicodeDecodeError:
            # SQLite's own message quotes bytes of the damaged schema that are not UTF-8
            self._db.close()
            raise StoreError(f"{path} is damaged (its schema is no longer readable text); it was left "
                             "untouched") from None
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
        problems = self._quick_check() if tables else ""
        if problems:
            raise StoreError(f"{self.path} is damaged ({problems}); it was left untouched, and nothing is recorded "
                             "into it")
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

    def _quick_check(self) -> str:
        """What ``PRAGMA quick_check`` finds wrong with the file ("": nothing). It checks every page and cell but
        no index against its table, and writes nothing; a file over :data:`CHECK_BYTES` has its chunks of
        frames left out (their damage shows frame by frame when they are read)."""
        whole = self.path is None or self.path.stat().st_size <= CHECK_BYTES
        pragmas = ["PRAGMA quick_check"] if whole else [
            f"PRAGMA quick_check('{name}')" for (name,) in self._db.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'chunks'").fetchall()]
        found: list[str] = []
        for pragma in pragmas:
            found += [str(line) for (text,) in self._db.execute(pragma).fetchall()
                      for line in str(text).splitlines() if line != "ok" and not line.startswith("***")]
        return "; ".join(found[:_CHECK_LINES]) + (f" and {len(found) - _CHECK_LINES} more" if len(found) > _CHECK_LINES
                                                   else "")

    def _damaged(self, exc: sqlite3.DatabaseError) -> None:
        """A read failed on the file: re-raised unless it is damage, which is noted in :attr:`read_error`."""
        if not _is_read_failure(exc):
            raise exc
        self.read_error = f"part of {self.path or 'the store'} cannot be read ({exc})"
        self.read_errors += 1
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _DAMAGE_CODES:
            self.damage = str(exc)

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self.stop_writer()
        self._db.close()

    def stop_writer(self) -> None:
        """Commit what the writer thread was handed and end it: :meth:`append_live` writes here again."""
        if self._writer is not None:
            self._writer.stop()
            self._collect()
            self._writer = None

    def start_writer(self) -> None:
        """From now on :meth:`append_live` hands its frames to a thread that writes them (``core/writer.py``);
        every other write here waits until it has committed what it was handed, so a session's rows keep the
        frames' order. Not for a store in memory."""
        if self.path is not None and self._writer is None:
            self._writer = FrameWriter(self.path)

    @property
    def writer_full(self) -> bool:
        """The writer thread has no room for another :meth:`append_live` until it commits one."""
        return self._writer is not None and self._writer.full

    def settle(self) -> None:
        """Wait until the writer thread has committed every frame handed to it."""
        if self._writer is not None:
            self._writer.drain()
        self._collect()

    def stored_through(self, session_id: int) -> tuple[int, str]:
        """The last seq of ``session_id`` committed by :meth:`append_live` (-1: none yet), and why the writer
        thread could not store more ("" while it can)."""
        self._collect()
        return self._stored_last.get(session_id, -1), self._write_errors.get(session_id, "")

    def _collect(self) -> None:
        """Take in what the writer thread committed: its sessions' last seqs and stored bytes."""
        done = self._writer.take() if self._writer is not None else []
        if not done:
            return
        self._cache.clear()  # a chunk left open was written again
        sizes = self._sizes
        for written in done:
            if written.error:
                self._write_errors.setdefault(written.session_id, written.error)
                continue
            self._stored_last[written.session_id] = written.last
            if sizes is not None:
                sizes[written.session_id] = sizes.get(written.session_id, 0) + written.grown
        if sizes is not None:  # the writer's commits are counted: they need no new measure
            self._sizes_version = self._db.execute("PRAGMA data_version").fetchone()[0]

    def set_autocheckpoint(self, on: bool) -> None:
        """Whether a commit copies the write-ahead log into the file once it has grown (SQLite's default, every
        1,000 pages); off, someone else checkpoints (``app/checkpoint.py``)."""
        self._db.execute(f"PRAGMA wal_autocheckpoint = {1000 if on else 0}")
        # a log emptied by a checkpoint is cut back to this size, so that its size tells how much is new in it
        self._db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")

    def wal_bytes(self) -> int:
        """The size of the write-ahead log file (0 without one)."""
        if self.path is None:
            return 0
        try:
            return self.path.with_name(self.path.name + "-wal").stat().st_size
        except OSError:
            return 0

    # -- profiles ---------------------------------------------------------------------------------

    def profiles(self) -> list[ConnectionProfile]:
        """The saved connections, in order. One whose row a damaged file no longer holds as a connection is left
        out, and left as it is; :attr:`unreadable_profiles` says which and why."""
        profiles, self.unreadable_profiles = [], []
        for pid, data in self._rows("SELECT id, data FROM profiles ORDER BY position, rowid"):
            try:
                profiles.append(profile_from_json(_text(pid), _text(data)))
            except ProfileFormatError as exc:
                self.unreadable_profiles.append(f"{exc} (saved connection {_text(pid)!r})")
        return profiles

    def save_profile(self, profile: ConnectionProfile) -> None:
        """Insert or update; a new profile goes to the end of the list."""
        self.save_profiles([profile])

    def save_profiles(self, profiles: Sequence[ConnectionProfile], stored: Sequence[str] | None = None) -> None:
        """Insert or update these profiles in one transaction, new ones at the end of the list in this order;
        ``stored``: their stored forms (``profile_to_json``) when the caller has made them already."""
        forms = list(stored) if stored is not None else [profile_to_json(profile) for profile in profiles]
        with self._transaction():
            position = self._db.execute("SELECT coalesce(max(position), -1) + 1 FROM profiles").fetchone()[0]
            for profile, data in zip(profiles, forms, strict=True):
                if self._db.execute("UPDATE profiles SET data = ? WHERE id = ?", (data, profile.id)).rowcount:
                    continue
                self._db.execute("INSERT INTO profiles (id, position, data) VALUES (?, ?, ?)",
                                 (profile.id, position, data))
                position += 1

    def move_profiles(self, folders: Sequence[tuple[str, str]]) -> list[str]:
        """Set the folder of these profiles ((id, folder path)) in one transaction, changing only that setting of
        each stored form; the ids of those this does not change (stored in another version's form: save them)."""
        left = []
        with self._transaction():
            for pid, folder in folders:
                if not self._db.execute("UPDATE profiles SET data = json_set(data, '$.folder', ?) WHERE id = ? AND "
                                        "json_extract(data, '$.version') = ?", (folder, pid, PROFILE_VERSION)).rowcount:
                    left.append(pid)
        return left

    def delete_profile(self, profile_id: str) -> None:
        self.delete_profiles([profile_id])

    def delete_profiles(self, profile_ids: Iterable[str]) -> None:
        """Delete these profiles, in one transaction."""
        with self._transaction():
            self._db.executemany("DELETE FROM profiles WHERE id = ?", [(pid,) for pid in profile_ids])

    def erase_freed(self) -> None:
        """Leave nothing of deleted or overwritten rows in the file (a secret moved out of it): the file is rebuilt
        from what it holds now (VACUUM) and its write-ahead log emptied."""
        if self.damage:
            raise StoreError(f"{self.path or 'the store'} is damaged ({self.damage}); it is left untouched")
        try:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise StoreError(f"Could not rebuild {self.path or 'the store'}: {exc}") from None

    def reorder_profiles(self, ids: Sequence[str]) -> None:
        with self._transaction():
            self._db.executemany("UPDATE profiles SET position = ? WHERE id = ?", enumerate(ids))

    # -- sessions ---------------------------------------------------------------------------------

    def create_session(self, name: str, url: str, started_wall: float, started_ns: int,
                       profile_id: str | None = None, status: str = SessionStatus.LIVE,
                       replay_of: str | None = None) -> int:
        """A new session; ``replay_of`` names the test file it replays, when it does. The URL is stored with its
        secrets replaced (:func:`~wsinspector.core.redact.redact_url`)."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO sessions (profile_id, name, url, started_wall, started_ns, status, replay_of) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (profile_id, name, redact_url(url), started_wall, started_ns, status, replay_of),
            )
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def append_frames(self, session_id: int, rows: Sequence[FrameRow]) -> None:
        """Store a batch of frames (consecutive seqs make one chunk) and the session's counters, in one
        transaction."""
        if not rows:
            return
        frames_in = frames_out = bytes_in = bytes_out = 0
        for row in rows:
            if header.is_out(row[2]):
                frames_out += 1
                bytes_out += len(row[6])
            else:
                frames_in += 1
                bytes_in += len(row[6])
        self._append_chunks(session_id, [pack_rows(run) for run in runs(rows)],
                            (frames_in, frames_out, bytes_in, bytes_out))

    def append_live(self, session_id: int, source: FrameColumns, first: int, last: int,
                    open_chunk: int | None = None) -> int | None:
        """Frames ``first``..``last`` of a live session (a recorder's flush), in one transaction.

        ``open_chunk``: the first seq of the small chunk the previous flush left open; it is written again
        with these frames, so a slow feed does not make a chunk per flush. Returns the chunk this flush leaves
        open (None: none)."""
        if last < first:
            return open_chunk
        chunks = pack_columns(source, first if open_chunk is None else open_chunk, last)
        if self._writer is None:
            self._append_chunks(session_id, chunks, source.counts(first, last))
            self._stored_last[session_id] = last
        elif self.damage:
            self._transaction()  # refuses
        else:
            limit = int(self._db.execute("PRAGMA max_page_count").fetchone()[0])
            self._writer.put(Write(session_id, tuple(chunks), source.counts(first, last), last, limit))
        tail = chunks[-1]
        return tail.first if tail.count < OPEN_FRAMES and len(tail.payload) < OPEN_BYTES else None

    def _append_chunks(self, session_id: int, chunks: Sequence[PackedChunk],
                       counts: tuple[int, int, int, int]) -> None:
        self._cache.clear()
        with self._transaction():
            try:
                grown = write_chunks(self._db, session_id, chunks, counts)
            except SessionGone:
                raise StoreError("the session was deleted") from None  # rolls the frames back: no orphans
        if self._sizes is not None:
            self._sizes[session_id] = self._sizes.get(session_id, 0) + grown

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
        if "url" in fields:
            fields["url"] = redact_url(str(fields["url"]))
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
        """Every session, newest first; on a damaged file, those that can be read (``read_error`` says so)."""
        records = [_record(row) for row in self._rows(f"SELECT {_SESSION_COLUMNS} FROM sessions")]
        records.sort(key=lambda r: (r.started_wall, r.id), reverse=True)
        return records

    def session(self, session_id: int) -> SessionRecord | None:
        rows = self._rows(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        return _record(rows[0]) if rows else None

    def _rows(self, sql: str, parameters: Sequence[object] = ()) -> list[Sequence[object]]:
        """The rows of a query, row by row: on a damaged file, the rows read before the damage."""
        rows: list[Sequence[object]] = []
        try:
            rows.extend(self._db.execute(sql, parameters))
        except sqlite3.DatabaseError as exc:
            self._damaged(exc)
        except UnicodeDecodeError:  # SQLite's message quotes damaged bytes that are not UTF-8
            error = sqlite3.DatabaseError("database disk image is malformed (a part that is no longer text)")
            error.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
            self._damaged(error)
        return rows

    def delete_session(self, session_id: int) -> None:
        self._cache.clear()
        with self._transaction():
            self._db.execute("DELETE FROM chunks WHERE key BETWEEN ? AND ?",
                             (session_id << SEQ_BITS, (session_id << SEQ_BITS) | SEQ_MASK))
            self._db.execute("DELETE FROM session_events WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if self._sizes is not None:
            self._sizes.pop(session_id, None)

    def add_event(self, session_id: int, seq: int, ts_ns: int, kind: str, text: str) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO session_events (session_id, seq, ts_ns, kind, text) VALUES (?, ?, ?, ?, ?)",
                             (session_id, seq, ts_ns, kind, text))

    def events(self, session_id: int) -> list[tuple[int, int, str, str]]:
        """(seq of the next frame, monotonic ns, kind, text) of a session's connection events, in order (on a
        damaged file: those that can be read)."""
        rows = self._rows("SELECT seq, ts_ns, kind, text FROM session_events WHERE session_id = ?", (session_id,))
        events = []
        for seq, ts_ns, kind, text in rows:
            seq, ts_ns = _opt_int(seq), _opt_int(ts_ns)
            if seq is not None and ts_ns is not None:
                events.append((seq, ts_ns, _text(kind), _text(text)))
        return sorted(events)

    def stored_frame_count(self, session_id: int, expected: int = 0) -> int:
        """Frames stored: up to the end of the last stored chunk (the session's counters say the same unless the
        file was damaged). A damaged file can lose a chunk (its frames are then gaps) or hold a wrong count: the
        result is at most the larger of what the chunks hold and ``expected`` (the session's counters)."""
        rows = self._rows(f"SELECT coalesce(sum(n), 0), coalesce(max((key & {SEQ_MASK}) + n), 0) FROM "
                          f"(SELECT key, max(0, min(count, {CHUNK_FRAMES})) AS n FROM chunks "
                          "WHERE key BETWEEN ? AND ?)",
                          (session_id << SEQ_BITS, (session_id << SEQ_BITS) | SEQ_MASK))
        if not rows:
            return 0
        held, span = (_opt_int(value) or 0 for value in rows[0])
        return min(span, max(held, expected))

    def stored_bytes(self) -> dict[int, int]:
        """The bytes each session's frames take in the store, by session id (sessions without frames: none).

        Measured over every chunk once; from then on kept up to date as this store writes and deletes, so
        asking again (the Sessions page and the retention, each time a recording ends) costs nothing. Measured
        again when another connection (a `wsinspector run`) has written to the file since."""
        self.settle()  # nothing committed but not yet counted
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._sizes is None or version != self._sizes_version:
            rows = self._db.execute(f"SELECT key >> ?, sum({_CHUNK_BYTES}) FROM chunks GROUP BY key >> ?",
                                    (SEQ_BITS, SEQ_BITS))
            self._sizes = {int(session_id): int(size) for session_id, size in rows}
            self._sizes_version = version
        return {session_id: size for session_id, size in self._sizes.items() if size}

    def chunks(self, session_id: int, first: int, last: int) -> Iterator[Chunk]:
        """The chunks holding seqs ``first``..``last`` of a session, in order (decoded ones are cached)."""
        base = session_id << SEQ_BITS
        if last < first:
            return
        starts = self._rows("SELECT max(key) FROM chunks WHERE key BETWEEN ? AND ?", (base, base | max(first, 0)))
        start = _opt_int(starts[0][0]) if starts else None
        # on a damaged file: the chunks listed before the damage (the frames of the others show as gaps)
        keys = self._rows("SELECT key FROM chunks WHERE key BETWEEN ? AND ? ORDER BY key",
                          (base if start is None else start, base | min(last, SEQ_MASK)))
        for (key,) in keys:
            if not isinstance(key, int):
                continue
            chunk = self._cache.get(key)
            if chunk is None:
                chunk = self._read_chunk(key)
                if chunk is None:
                    continue  # damaged beyond reading: its frames show as gaps
                self._cache[key] = chunk
                if len(self._cache) > CACHED_CHUNKS:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            yield chunk

    def _read_chunk(self, key: int) -> Chunk | None:
        rows = self._rows("SELECT count, ts, meta, ends, payload, extras FROM chunks WHERE key = ?", (key,))
        if not rows:
            return None
        count, ts, meta, ends, payload, extras = rows[0]
        # a count a damaged file holds in another type: the frames its columns hold
        return Chunk(key & SEQ_MASK, _opt_int(count) or CHUNK_FRAMES, ts, meta, ends, payload, extras)

    def read_frames(self, session_id: int, first: int, last: int) -> list[FrameRow]:
        """Frames ``first``..``last`` (inclusive) of a session, in order."""
        return [chunk.row(index) for chunk, index in seqs_in(self.chunks(session_id, first, last), first, last)]

    def read_summaries(self, session_id: int, first: int, last: int,
                       head: int = 256) -> list[tuple[int, int, int, int, bytes, int]]:
        """(seq, ts_ns, meta, size, first ``head`` payload bytes, payload length) for a page of the table;
        ``meta`` with what sent the frame (``header.ORIGIN_BITS``) besides its header fields."""
        return [(chunk.first + index, chunk.ts[index], chunk.header_and_origin(index), chunk.size(index),
                 chunk.payload_of(index, head), chunk.ends[index] - chunk.start(index))
                for chunk, index in seqs_in(self.chunks(session_id, first, last), first, last)]

    def header_runs(self, session_id: int, first: int, last: int) -> Iterator[tuple[int, array[int]]]:
        """The packed headers of frames ``first``..``last`` as runs (the seq of a run's first frame, its headers),
        read from the chunks' header columns alone (their payloads are not read). A damaged header reads as
        ``header.damaged_meta``; a chunk the file no longer holds is a gap between runs."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        base = session_id << SEQ_BITS
        if last < first:
            return
        starts = self._rows("SELECT max(key) FROM chunks WHERE key BETWEEN ? AND ?", (base, base | max(first, 0)))
        start = _opt_int(starts[0][0]) if starts else None
        rows = self._rows("SELECT key, count, meta FROM chunks WHERE key BETWEEN ? AND ? ORDER BY key",
                          (base if start is None else start, base | min(last, SEQ_MASK)))
        for key, count, meta in rows:
            if not isinstance(key, int) or not isinstance(meta, bytes):
                continue
            headers = from_le("I", meta)
            chunk_first = key & SEQ_MASK
            count = max(0, min(_opt_int(count) or CHUNK_FRAMES, len(headers)))
            lo, hi = max(first - chunk_first, 0), min(last - chunk_first + 1, count)
            if hi <= lo:
                continue
            column = header.readable_column(np.frombuffer(headers, dtype=np.uint32, count=count)[lo:hi])
            yield chunk_first + lo, array("I", column.astype(np.uint32).tobytes())

    def scan_frames(self, session_id: int, first: int, last: int) -> Iterator[tuple[int, int, bytes]]:
        """(seq, meta, payload) for filtering."""
        for chunk, index in seqs_in(self.chunks(session_id, first, last), first, last):
            yield chunk.first + index, chunk.header(index), chunk.payload_of(index)

    def filter_seqs(self, session_id: int, flt: FrameFilter, first: int, last: int) -> list[int]:
        """Seqs in ``first``..``last`` whose frame ``flt`` lets through. Raises FilterError on a bad regex."""
        seqs: list[int] = []
        for chunk in self.chunks(session_id, first, last):
            indexes = chunk.indexes(first, last)
            seqs.extend(chunk.first + i for i in chunk_matches(flt, chunk, indexes.start, indexes.stop))
        return seqs

    def control_frames(self, session_id: int, opcodes: Iterable[int]) -> list[tuple[int, int, int, bytes]]:
        """(seq, ts_ns, meta, payload) of the session's frames with these opcodes (pings and pongs, say)."""
        import numpy as np  # noqa: PLC0415  (numpy on first use, not at start-up)

        wanted = np.array(sorted(set(opcodes)), dtype=np.uint32)
        out = []
        for chunk in self.chunks(session_id, 0, SEQ_MASK):
            # control frames are few: find them in the packed column, not frame by frame
            opcodes_of = header.opcode_column(np.frombuffer(chunk.meta, dtype=np.uint32, count=chunk.count))
            for index in np.flatnonzero(np.isin(opcodes_of, wanted)).tolist():
                out.append((chunk.first + index, chunk.ts[index], chunk.header(index), chunk.payload_of(index)))
        return out

    def seq_at_or_after(self, session_id: int, ts_ns: int) -> int | None:
        base = session_id << SEQ_BITS
        rows = self._rows("SELECT min(key) FROM chunks WHERE key BETWEEN ? AND ? AND last_ts_ns >= ?",
                          (base, base | SEQ_MASK, ts_ns))
        key = _opt_int(rows[0][0]) if rows else None
        if key is None:
            return None
        seq = key & SEQ_MASK
        for chunk in self.chunks(session_id, seq, seq):
            return chunk.first + chunk.index_at_or_after(ts_ns)
        return None

    @property
    def connection(self) -> sqlite3.Connection:
        """For reading the file directly (tests, diagnostics); not for writing around the store."""
        return self._db

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- the composer's history ---------------------------------------------------------------------

    def add_history(self, profile_id: str, sent_wall: float, kind: str, payload: str, keep: int) -> None:
        """A message sent from the composer (as typed); only the connection's newest ``keep`` stay."""
        with self._transaction():
            self._db.execute("INSERT INTO history (profile_id, sent_wall, kind, payload) VALUES (?, ?, ?, ?)",
                             (profile_id, sent_wall, kind, payload))
            self._db.execute(
                "DELETE FROM history WHERE profile_id = ? AND id <= (SELECT id FROM history WHERE profile_id = ? "
                "ORDER BY id DESC LIMIT 1 OFFSET ?)", (profile_id, profile_id, keep))

    def history(self, profile_id: str, limit: int) -> list[tuple[float, str, str]]:
        """(sent_wall, kind, payload) of the connection's newest ``limit`` messages, oldest first."""
        rows = self._rows("SELECT sent_wall, kind, payload FROM history WHERE profile_id = ? ORDER BY id DESC "
                          "LIMIT ?", (profile_id, limit))
        return [(float(wall), kind, payload) for wall, kind, payload in reversed(rows)
                if isinstance(wall, int | float) and isinstance(kind, str) and isinstance(payload, str)]

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
        self.settle()  # the frames handed to the writer thread go first
        if self.damage:
            # writing into a damaged b-tree could spread the damage: the file is left as it is
            raise StoreError(f"{self.path or 'the store'} is damaged ({self.damage}); it is left untouched: nothing "
                             "more is saved into it")
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, UnicodeDecodeError) as err:  # the latter: a message quoting damaged bytes
            raise StoreError(f"Could not save: {err}") from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except (sqlite3.Error, UnicodeDecodeError) as err:
                self._rollback()
                raise StoreError(f"Could not save: {err}") from None
        else:
            self._rollback()
            if isinstance(exc, sqlite3.Error | UnicodeDecodeError):
                raise StoreError(f"Could not save: {exc}") from None

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
