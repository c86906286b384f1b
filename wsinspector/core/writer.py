"""Writing a live session's frames into the store away from the window's thread.

A commit can stall for tens of milliseconds, now and then hundreds, while the disk catches up with what the
system has cached: on the window's thread that is a frozen window under a flood. A :class:`FrameWriter` is a
thread with a SQLite connection of its own that writes the chunks the window's thread has packed
(:meth:`Store.append_live <wsinspector.core.store.Store.append_live>` hands them over) and commits, one
transaction per :class:`Write`, in the order they were handed over. SQLite lets go of the GIL while it writes,
so the window goes on meanwhile.

The queue is short (:data:`WRITE_DEPTH` writes): the one handing over asks :attr:`FrameWriter.full` first and
waits for another turn rather than blocking. What is committed comes back as :class:`Written` (taken with
:meth:`FrameWriter.take`); a write that fails says why in the same words as a failed save on the window's
thread, and the writes of that session queued after it are dropped (its recording stops there). The thread
touches nothing but its connection, its queue and what it hands back.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wsinspector.core.chunks import PackedChunk
from wsinspector.core.schema import INSERT_CHUNK, chunk_values, frame_key
from wsinspector.core.threads import start_thread

log = logging.getLogger(__name__)

#: writes (each a slice of frames) handed over and not committed yet, at most
WRITE_DEPTH = 4
#: how often a write waiting for room looks whether the thread is still there to make it
PUT_LOOK_S = 0.5
#: what a chunk's frames take in the store, as SQL over a chunks row
CHUNK_BYTES_SQL = "length(ts) + length(meta) + length(ends) + length(payload) + coalesce(length(extras), 0)"


def chunk_bytes(chunk: PackedChunk) -> int:
    """What a packed chunk's frames take in the store (as ``Store.stored_bytes`` counts them)."""
    return len(chunk.ts) + len(chunk.meta) + len(chunk.ends) + len(chunk.payload) + len(chunk.extras or "")


class SessionGone(Exception):
    """The session the frames belong to is no longer in the file."""


def write_chunks(db: sqlite3.Connection, session_id: int, chunks: Sequence[PackedChunk],
                 counts: tuple[int, int, int, int]) -> int:
    """Write ``chunks`` (replacing those with the same keys) and add ``counts`` to the session's counters, inside
    the caller's transaction. Returns how much the session's stored bytes grew. Raises :class:`SessionGone`."""
    frames_in, frames_out, bytes_in, bytes_out = counts
    # the chunks these replace (a flush writes the chunk the last one left open again)
    replaced = int(db.execute(f"SELECT coalesce(sum({CHUNK_BYTES_SQL}), 0) FROM chunks WHERE key BETWEEN ? AND ?",
                              (frame_key(session_id, chunks[0].first),
                               frame_key(session_id, chunks[-1].first))).fetchone()[0])
    db.executemany(INSERT_CHUNK, [chunk_values(session_id, chunk) for chunk in chunks])
    updated = db.execute(
        "UPDATE sessions SET frames_in = frames_in + ?, frames_out = frames_out + ?, "
        "bytes_in = bytes_in + ?, bytes_out = bytes_out + ?, last_ts_ns = ? WHERE id = ?",
        (frames_in, frames_out, bytes_in, bytes_out, chunks[-1].last_ts_ns, session_id),
    ).rowcount
    if updated == 0:
        raise SessionGone
    return sum(chunk_bytes(chunk) for chunk in chunks) - replaced


@dataclass(frozen=True)
class Write:
    """Packed chunks of a session and its counters' increments, through frame ``last``; ``page_limit``: the
    store's ``max_page_count`` when it was handed over (the thread's connection keeps to the same)."""

    session_id: int
    chunks: tuple[PackedChunk, ...]
    counts: tuple[int, int, int, int]
    last: int
    page_limit: int = 0


@dataclass(frozen=True)
class Written:
    """A write committed (its session's frames through ``last`` are in the file, its bytes grew by ``grown``), or
    failed (``error`` says why, for the user)."""

    session_id: int
    last: int
    grown: int = 0
    error: str = ""


class FrameWriter:
    """The thread writing into the SQLite file at ``path``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._queue: queue.Queue[Write | None] = queue.Queue(maxsize=WRITE_DEPTH)
        self._done: deque[Written] = deque()
        self._idle = threading.Condition()
        self._pending = 0
        #: the end was taken from the queue behind a batch still to commit
        self._ending = False
        self._thread = threading.Thread(target=self._run, name="wsinspector-writer", daemon=True)
        start_thread(self._thread)

    @property
    def full(self) -> bool:
        """No room for another write until one is committed."""
        return self._queue.full()

    def put(self, write: Write) -> None:
        """Hand a write over (waits for room when :attr:`full`; on a thread that has died, it fails at once, as
        the thread would have failed it, rather than waiting for good)."""
        with self._idle:
            self._pending += 1
        while self._thread.is_alive():
            try:
                self._queue.put(write, timeout=PUT_LOOK_S)
                return
            except queue.Full:
                continue
        self._done.append(Written(write.session_id, write.last, error="Could not save: the writing thread stopped"))
        with self._idle:
            self._pending -= 1

    def take(self) -> list[Written]:
        """What was committed (or failed) since the last call, in order."""
        taken: list[Written] = []
        while self._done:
            taken.append(self._done.popleft())
        return taken

    def drain(self) -> None:
        """Wait until every write handed over is committed (or failed)."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0 or not self._thread.is_alive())

    def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        opened = ""
        try:
            db = sqlite3.connect(self._path, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            opened = f"Could not save: {exc}"
        failed: set[int] = set()
        page_limit = 0
        try:
            while (taken := self._next_batch()) is not None:
                try:
                    batch = [write for write in taken if write.session_id not in failed]
                    if not batch:
                        continue
                    if db is None or opened:
                        done = [Written(write.session_id, write.last, error=opened) for write in batch]
                    else:
                        limit = batch[0].page_limit
                        if limit and limit != page_limit:
                            page_limit = int(db.execute(f"PRAGMA max_page_count = {int(limit)}").fetchone()[0])
                        done = self._commit_batch(db, batch)
                    for written in done:
                        if written.error:
                            failed.add(written.session_id)
                    self._done.extend(done)
                finally:
                    with self._idle:
                        self._pending -= len(taken)
                        self._idle.notify_all()
        finally:
            if db is not None:
                db.close()
            with self._idle:
                self._idle.notify_all()

    def _next_batch(self) -> list[Write] | None:
        """The next write and those queued behind it with the same page limit (None: the thread is to end).

        They are committed in one transaction: while the window's thread runs Python, this thread waits up to
        the interpreter's switch interval (5 ms) for the GIL each time it comes back from SQLite or from waiting
        for the queue, so fewer statements and wake-ups per frame let it keep up with a flood."""
        if self._ending:
            return None
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while batch[-1].page_limit == first.page_limit:
            try:
                write = self._queue.get_nowait()
            except queue.Empty:
                break
            if write is None:
                self._ending = True  # once this batch is committed
                break
            batch.append(write)
        return batch

    def _commit_batch(self, db: sqlite3.Connection, batch: list[Write]) -> list[Written]:
        """One transaction for the whole batch; should it fail, each write on its own, so a failure stops only
        the session it belongs to, at the write that failed."""
        if len(batch) == 1:
            return [self._commit(db, batch[0])]
        try:
            db.execute("BEGIN IMMEDIATE")
            grown = [write_chunks(db, write.session_id, write.chunks, write.counts) for write in batch]
            db.execute("COMMIT")
        except (sqlite3.Error, UnicodeDecodeError, SessionGone):
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
            except sqlite3.Error:
                log.warning("could not roll back a failed batch of writes")
            done: list[Written] = []
            failed: set[int] = set()
            for write in batch:
                if write.session_id in failed:
                    continue
                written = self._commit(db, write)
                if written.error:
                    failed.add(write.session_id)
                done.append(written)
            return done
        return [Written(write.session_id, write.last, size) for write, size in zip(batch, grown, strict=True)]

    @staticmethod
    def _commit(db: sqlite3.Connection, write: Write) -> Written:
        try:
            db.execute("BEGIN IMMEDIATE")
            grown = write_chunks(db, write.session_id, write.chunks, write.counts)
            db.execute("COMMIT")
        except (sqlite3.Error, UnicodeDecodeError, SessionGone) as exc:
            try:
                if db.in_transaction:
                    db.execute("ROLLBACK")
            except sqlite3.Error:
                log.warning("could not roll back a failed write: %s", exc)
            error = "the session was deleted" if isinstance(exc, SessionGone) else f"Could not save: {exc}"
            return Written(write.session_id, write.last, error=error)
        return Written(write.session_id, write.last, grown)
