"""Recorded sessions: list, open read-only, rename, annotate, delete, export, import, filter."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from array import array
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, TextIO

from PySide6.QtCore import QObject, Signal

from wsinspector.app.tasks import ChunkedTask
from wsinspector.core.chunks import CHUNK_FRAMES
from wsinspector.core.decoders.registry import decoder_registry
from wsinspector.core.decoders.session import SessionDecoding, session_source
from wsinspector.core.export import SessionInfo, write_session
from wsinspector.core.filters import FrameFilter
from wsinspector.core.har_export import HarSession, stored_har_session, write_har
from wsinspector.core.profiles import Decoding
from wsinspector.core.retention import SETTING as RETENTION_SETTING
from wsinspector.core.retention import Retention
from wsinspector.core.session import Session
from wsinspector.core.session_import import SessionsImport
from wsinspector.core.store import SessionRecord, SessionStatus, Store
from wsinspector.core.stored import StoredSession

log = logging.getLogger(__name__)

EXPORT_PAGE = 5000
#: frames filtered per step (16 stored chunks): each step stays short enough for the window
FILTER_STEP = 16 * CHUNK_FRAMES


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    return str(exc)


class ImportTask(ChunkedTask):
    """An import's task, with the import itself (``job``: the new sessions' ids, the warnings)."""

    def __init__(self, job: SessionsImport, *args: Any) -> None:
        super().__init__(*args)
        self.job = job


class SessionsController(QObject):
    """Signals:
    sessions_changed(): a session was added, changed or removed
    session_deleted(int): its id (the recorder stops recording it, if it is the live one)
    """

    sessions_changed = Signal()
    session_deleted = Signal(int)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    def sessions(self) -> list[SessionRecord]:
        """Every session but imports still under way."""
        return [r for r in self._store.sessions() if r.status != SessionStatus.IMPORTING]

    def get(self, session_id: int) -> SessionRecord | None:
        return self._store.session(session_id)

    def open(self, session_id: int) -> StoredSession:
        record = self._store.session(session_id)
        if record is None:
            raise KeyError(session_id)
        return StoredSession(self._store, record)

    def rename(self, session_id: int, name: str) -> None:
        if name.strip():
            self._store.update_session(session_id, name=name.strip())
            self.sessions_changed.emit()

    def set_note(self, session_id: int, note: str) -> None:
        self._store.update_session(session_id, note=note)
        self.sessions_changed.emit()

    def delete(self, session_id: int) -> None:
        self._store.delete_session(session_id)
        self.session_deleted.emit(session_id)
        self.sessions_changed.emit()

    # -- retention and disk use -------------------------------------------------------------------

    @property
    def retention(self) -> Retention:
        return Retention.from_json(self._store.setting(RETENTION_SETTING))

    def expiring(self, retention: Retention, now_wall: float | None = None) -> list[SessionRecord]:
        """The sessions ``retention`` would delete now, oldest first."""
        sizes = self._stored_bytes()
        records = {r.id: r for r in self.sessions()}
        ids = retention.expired(((r.id, r.started_wall + (r.duration_s or 0.0), r.status == SessionStatus.LIVE,
                                  sizes.get(r.id, 0)) for r in records.values()),
                                time.time() if now_wall is None else now_wall)
        return [records[i] for i in ids]

    def set_retention(self, retention: Retention) -> int:
        """Keep sessions by ``retention`` from now on, and delete those it lets go of; how many were deleted."""
        self._store.set_setting(RETENTION_SETTING, retention.to_json())
        self.sessions_changed.emit()
        return self.apply_retention()

    def apply_retention(self) -> int:
        """Delete the stored sessions the retention lets go of (at start-up and whenever a recording ends);
        how many were deleted."""
        deleted = 0
        for record in self.expiring(self.retention):
            self.delete(record.id)
            deleted += 1
        return deleted

    def disk_used(self) -> int:
        """Bytes the store's files take on disk (the database and its write-ahead log)."""
        path = self._store.path
        if path is None:
            return 0
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                total += path.with_name(path.name + suffix).stat().st_size
        return total

    def stored_bytes(self) -> int:
        """Bytes the stored sessions' frames take, all together."""
        return sum(self._stored_bytes().values())

    def _stored_bytes(self) -> dict[int, int]:
        """Each session's bytes; none when the file cannot be read (a size limit then deletes nothing)."""
        try:
            return self._store.stored_bytes()
        except sqlite3.DatabaseError as exc:
            log.warning("cannot measure the stored sessions: %s", exc)
            return {}

    # -- export -----------------------------------------------------------------------------------

    def export_task(self, session_id: int, path: Path, parent: QObject | None = None,
                    decoding: Decoding | None = None) -> ChunkedTask:
        """Write the session to ``path`` (via a temporary file renamed at the end: never half a file), each
        decoded message beside its payload (read as ``decoding`` says: its connection's setting)."""
        record = self._store.session(session_id)
        if record is None:
            raise KeyError(session_id)
        stored = StoredSession(self._store, record)
        total = len(stored)
        info = SessionInfo(name=record.name, url=record.url, started_wall=record.started_wall,
                           ended_wall=record.ended_wall, status=record.status, close_code=record.close_code,
                           close_reason=record.close_reason, note=record.note, subprotocol=record.subprotocol)
        steps, cleanup = _written_whole(path, total, lambda fp: write_session(
            fp, info, stored.frames(0, total - 1, EXPORT_PAGE), record.started_ns,
            decoded_json(stored, record, decoding)))
        return ChunkedTask(f"Exporting “{record.name}”", steps, lambda: path, _describe, cleanup, parent)

    # -- import -----------------------------------------------------------------------------------

    def import_task(self, path: Path, parent: QObject | None = None) -> ImportTask:
        """Read a session file, or a HAR file's WebSocket entries, into new stored sessions; on error or cancel
        nothing is left behind. The task's result is the first new session's id; ``task.job.ids`` are all of
        them, ``task.job.warnings`` the HAR entries that could not be read."""
        job = SessionsImport(self._store, path)

        def cleanup() -> None:
            job.discard()
            self.sessions_changed.emit()

        def result() -> int:
            self.sessions_changed.emit()
            return job.ids[0]

        return ImportTask(job, f"Importing {path.name}", job.steps(), result, _describe, cleanup, parent)

    def export_har_task(self, items: list[HarSession], path: Path, parent: QObject | None = None) -> ChunkedTask:
        """Write sessions (or a selection of one) as a HAR file at ``path``, via a temporary file renamed at the
        end; the result is the path."""
        total = sum(len(item.session) for item in items)
        steps, cleanup = _written_whole(path, total, lambda fp: write_har(fp, items))
        title = f"Exporting “{items[0].name}” as HAR" if len(items) == 1 else "Exporting sessions as HAR"
        return ChunkedTask(title, steps, lambda: path, _describe, cleanup, parent)

    def har_session(self, session_id: int, selection: Collection[int] | None = None) -> HarSession:
        """A stored session as a HAR export takes it (``selection``: the seqs to write)."""
        record = self._store.session(session_id)
        if record is None:
            raise KeyError(session_id)
        return stored_har_session(self._store, record, selection)

    # -- filtering --------------------------------------------------------------------------------

    def filter_task(self, source: Session, flt: FrameFilter, parent: QObject | None = None,
                    upto: int | None = None) -> ChunkedTask:
        """Compute the seqs of ``source`` below ``upto`` (default: all) that ``flt`` matches; the result is
        (array of seqs, frames scanned)."""
        total = len(source) if upto is None else min(upto, len(source))
        matches: array[int] = array("q")
        flt.validate()  # a bad regex fails here, not in the first step

        def steps() -> Iterator[tuple[int, int]]:
            for first in range(0, total, FILTER_STEP):
                last = min(first + FILTER_STEP, total) - 1
                matches.extend(source.match_seqs(flt, first, last))
                yield last + 1, total
            yield total, total

        return ChunkedTask("Filtering", steps(), lambda: (matches, total), _describe, parent=parent)


def decoded_json(stored: StoredSession, record: SessionRecord,
                 decoding: Decoding | None) -> Callable[[int], dict[str, Any] | None]:
    """A frame's seq → its message decoded as JSON (None for what is not decoded), for an export: read with the
    connection's decoding setting, else chosen by the session's subprotocol, URL and first messages."""
    setting = decoding or Decoding()
    session = SessionDecoding(decoder_registry(), session_source(stored), override=setting.decoder,
                              subprotocol=record.subprotocol, url=record.url, options=dict(setting.options),
                              cache_size=256)

    def of(seq: int) -> dict[str, Any] | None:
        decoded = session.decoded(seq)
        return decoded.as_json() if decoded is not None and decoded.protocol != "none" else None

    return of


def _written_whole(path: Path, total: int,
                   write: Callable[[TextIO], Iterator[int]]) -> tuple[Iterator[tuple[int, int]], Callable[[], None]]:
    """The steps of writing a file at ``path`` through a temporary file renamed at the end (never half a file),
    each (frames written, ``total``), and the cleanup that removes the temporary file if the writing stops."""
    part = path.with_name(path.name + ".part")

    def steps() -> Iterator[tuple[int, int]]:
        with part.open("w", encoding="utf-8", newline="\n") as fp:
            for written in write(fp):
                yield written, total
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(part, path)

    def cleanup() -> None:
        with contextlib.suppress(OSError):
            part.unlink()

    return steps(), cleanup
