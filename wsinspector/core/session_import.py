"""Files of sessions read into the store as new sessions, step by step: our session files and HAR files.

The window runs the steps as a task with progress and cancel (``app/sessions.py``), ``wsinspector import`` runs
them at once; either way a failure or a cancel leaves nothing behind (:meth:`SessionsImport.discard`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from wsinspector.core.export import SessionFileError, is_session_file, read_session
from wsinspector.core.har_import import HarConnection, HarError, is_har, read_har
from wsinspector.core.model import header
from wsinspector.core.store import FrameRow, SessionStatus, Store, StoreError

__all__ = ["IMPORT_BATCH", "SessionsImport", "is_har_file"]

#: frames stored per transaction (and per step)
IMPORT_BATCH = 5000


def is_har_file(path: Path) -> bool:
    """A HAR file by its name or first bytes, or a .zip holding one (how Playwright records with side files)."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return any(name.lower().endswith(".har") for name in archive.namelist())
        except (OSError, zipfile.BadZipFile):
            return False
    return is_har(path)


class SessionsImport:
    """One file's sessions into ``store``: ``steps()`` yields (done, total) and, once exhausted, ``ids`` holds the
    new sessions' ids in the file's order. A HAR file's entries that could not be read are ``warnings``."""

    def __init__(self, store: Store, path: Path) -> None:
        self.store = store
        self.path = path
        self.ids: list[int] = []
        self.warnings: list[str] = []
        self.kind = "HAR file" if not is_session_file(path) and is_har_file(path) else "session file"

    def steps(self) -> Iterator[tuple[int, int]]:
        if self.kind == "HAR file":
            return self._har_steps()
        return self._session_file_steps()

    def discard(self) -> None:
        """Remove the sessions made so far (after a failure or a cancel)."""
        while self.ids:
            session_id = self.ids.pop()
            try:
                self.store.delete_session(session_id)
            except StoreError:
                continue

    # -- a session file --------------------------------------------------------------------------------------

    def _session_file_steps(self) -> Iterator[tuple[int, int]]:
        path = self.path
        size = path.stat().st_size if path.exists() else 0
        with path.open("r", encoding="utf-8", errors="strict", newline="") as fp:
            try:
                info, frames = read_session(fp)
            except UnicodeDecodeError:
                raise SessionFileError(f"{path.name} is not a wsinspector session file (not UTF-8 text)") from None
            session_id = self.store.create_session(info.name, info.url, info.started_wall, 0, None,
                                                   SessionStatus.IMPORTING)
            self.ids.append(session_id)
            batch: list[FrameRow] = []
            count = 0
            try:
                for frame in frames:
                    batch.append((frame.seq, frame.ts_ns, header.of_frame(frame), frame.payload_length,
                                  frame.mask_key, frame.note or None, frame.payload))
                    if len(batch) >= IMPORT_BATCH:
                        self.store.append_frames(session_id, batch)
                        count += len(batch)
                        batch = []
                        yield fp.tell() if size else count, size
            except UnicodeDecodeError:
                raise SessionFileError(f"{path.name} is not a wsinspector session file (not UTF-8 text)") from None
            self.store.append_frames(session_id, batch)
            if info.note:
                self.store.update_session(session_id, note=info.note)
            if info.subprotocol:
                self.store.update_session(session_id, subprotocol=info.subprotocol)
            # an unknown end stays unknown: the duration then comes from the last frame
            self.store.finish_session(session_id, SessionStatus.IMPORTED, info.ended_wall, info.close_code,
                                      info.close_reason)
            yield size, size

    # -- a HAR file ----------------------------------------------------------------------------------------------

    def _har_steps(self) -> Iterator[tuple[int, int]]:
        yield 0, 0
        har = read_har(self.path)
        self.warnings.extend(har.warnings)
        total = sum(len(connection.frames) for connection in har.connections) + len(har.connections)
        done = 0
        for connection in har.connections:
            for stored in self._store_connection(connection):
                yield done + stored, total
            done += len(connection.frames) + 1
            yield done, total

    def _store_connection(self, connection: HarConnection) -> Iterator[int]:
        store = self.store
        session_id = store.create_session(connection.name, connection.url, connection.started_wall, 0, None,
                                          SessionStatus.IMPORTING)
        self.ids.append(session_id)
        frames = connection.frames
        for first in range(0, len(frames), IMPORT_BATCH):
            rows: list[FrameRow] = []
            for frame in frames[first:first + IMPORT_BATCH]:
                meta = header.with_origin(header.of_frame(frame), connection.origins.get(frame.seq, 0))
                rows.append((frame.seq, frame.ts_ns, meta, frame.payload_length, frame.mask_key,
                             frame.note or None, frame.payload))
            store.append_frames(session_id, rows)
            yield first + len(rows)
        for seq, ts_ns, kind, text in connection.events:
            store.add_event(session_id, seq, ts_ns, kind, text)
        if connection.note:
            store.update_session(session_id, note=connection.note)
        if connection.subprotocol:
            store.update_session(session_id, subprotocol=connection.subprotocol)
        store.finish_session(session_id, SessionStatus.IMPORTED, connection.ended_wall, connection.close_code,
                             connection.close_reason)


#: what an import can fail with, each a sentence for the user
IMPORT_ERRORS = (SessionFileError, HarError, StoreError, OSError)
