"""The store's writer thread (``core/writer.py``): frames handed to it are committed in order, counted in the
running total of stored bytes, kept in order with the session's other rows, and never lost on a normal close;
a failed write says why and stores nothing after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.test_stored_session import IN, OUT, LogBuilder, record, stored_rows
from wsinspector.core.chunks import OPEN_FRAMES
from wsinspector.core.frames import Opcode
from wsinspector.core.log import FrameLog
from wsinspector.core.store import SessionStatus, Store

DB = "wsinspector.sqlite3"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    opened = Store(data_dir / DB)
    opened.start_writer()
    yield opened
    opened.close()


def flood(count: int) -> FrameLog:
    builder = LogBuilder()
    for n in range(count):
        builder.add(IN if n % 3 else OUT, Opcode.TEXT, f"frame {n}".encode() * (n % 7))
    return builder.log


def hand_over(store: Store, log: FrameLog, session_id: int, batch: int) -> None:
    open_chunk = None
    for first in range(0, len(log), batch):
        open_chunk = store.append_live(session_id, log, first, min(first + batch, len(log)) - 1, open_chunk)


def new_session(store: Store, log: FrameLog) -> int:
    return store.create_session("flood", "ws://127.0.0.1:1/", log.started_wall, log.started_ns)


def test_frames_handed_to_the_thread_read_back_whole_once_committed(store: Store) -> None:
    log = flood(3 * OPEN_FRAMES + 5)
    session_id = new_session(store, log)
    hand_over(store, log, session_id, batch=41)
    store.settle()
    assert store.stored_through(session_id) == (len(log) - 1, "")
    assert store.read_frames(session_id, 0, len(log) - 1) == stored_rows(log, 0, len(log) - 1)
    saved = store.session(session_id)
    assert saved is not None and saved.frame_count == len(log)


def test_a_session_row_written_on_the_window_thread_waits_for_the_frames_before_it(store: Store) -> None:
    """Ending the session right after handing over its last frames: the end is written after them, so the
    session's counters and its status agree with its frames."""
    log = flood(2 * OPEN_FRAMES)
    session_id = new_session(store, log)
    hand_over(store, log, session_id, batch=97)
    store.add_event(session_id, len(log), log.started_ns + 10, "disconnect", "closed")
    store.finish_session(session_id, SessionStatus.CLOSED, log.started_wall + 1, 1000, "")
    saved = store.session(session_id)
    assert saved is not None and saved.status == SessionStatus.CLOSED and saved.frame_count == len(log)
    assert store.stored_frame_count(session_id, saved.frame_count) == len(log)
    assert [kind for _seq, _ts, kind, _text in store.events(session_id)] == ["disconnect"]


def test_closing_the_store_commits_what_the_thread_was_handed(store: Store, data_dir: Path) -> None:
    log = flood(OPEN_FRAMES * 2 + 3)
    session_id = new_session(store, log)
    hand_over(store, log, session_id, batch=64)
    store.close()
    reopened = Store(data_dir / DB)
    try:
        assert reopened.read_frames(session_id, 0, len(log) - 1) == stored_rows(log, 0, len(log) - 1)
    finally:
        reopened.close()


def test_the_stored_bytes_count_what_the_thread_wrote(store: Store, data_dir: Path) -> None:
    def measured() -> dict[int, int]:
        fresh = Store(data_dir / DB)
        try:
            return fresh.stored_bytes()
        finally:
            fresh.close()

    assert store.stored_bytes() == {}  # measured once: from now on a running total
    log = flood(3 * OPEN_FRAMES)
    first = record(store, log, batch=13).session_id  # the chunk left open is written again and again
    second = new_session(store, log)
    hand_over(store, log, second, batch=500)
    sizes = store.stored_bytes()
    assert sizes == measured() and sizes.keys() == {first, second}
    store.delete_session(first)
    assert store.stored_bytes() == measured() == {second: sizes[second]}


def test_a_failed_write_says_why_and_nothing_after_it_is_stored(data_dir: Path) -> None:
    """The disk fills up under the thread: the write fails with the same words as on the window's thread, and
    the writes handed over after it are dropped (no gap in the session), while the frames before stay."""
    builder = LogBuilder()
    for n in range(100):
        builder.add(IN, Opcode.TEXT, f"small {n}".encode())
    for n in range(200):
        builder.add(IN, Opcode.BINARY, bytes([n % 256]) * 60_000)
    log = builder.log
    store = Store(data_dir / DB)
    try:
        session_id = new_session(store, log)
        open_chunk = store.append_live(session_id, log, 0, 99)
        store.start_writer()
        page_count = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count = {page_count}")  # the writer's connection too
        for first in range(100, len(log), 20):
            open_chunk = store.append_live(session_id, log, first, first + 19, open_chunk)
        store.settle()
        last, error = store.stored_through(session_id)
        assert last == 99
        assert error.startswith("Could not save:") and "database or disk is full" in error, error
        saved = store.session(session_id)
        assert saved is not None and saved.frame_count == 100
        assert store.stored_frame_count(session_id) == 100
        assert store.read_frames(session_id, 0, 99) == stored_rows(log, 0, 99)
    finally:
        store.close()


def test_writes_queued_behind_a_busy_thread_are_all_committed_and_a_failure_stops_only_its_session(
    store: Store, data_dir: Path
) -> None:
    """While the thread waits for the file (another connection holds the write lock), more writes queue up; it
    commits them together once it can. One of their sessions was deleted meanwhile: that session's write fails
    with the reason, and the other session's frames, queued around it, are all stored."""
    log = flood(4 * OPEN_FRAMES)
    kept, gone = new_session(store, log), new_session(store, log)
    blocker = sqlite3.connect(data_dir / DB, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        open_chunk = store.append_live(kept, log, 0, OPEN_FRAMES - 1)
        store.append_live(gone, log, 0, OPEN_FRAMES - 1)
        for first in range(OPEN_FRAMES, len(log), OPEN_FRAMES):
            open_chunk = store.append_live(kept, log, first, first + OPEN_FRAMES - 1, open_chunk)
        blocker.execute("DELETE FROM sessions WHERE id = ?", (gone,))
        blocker.execute("COMMIT")
    finally:
        blocker.close()
    store.settle()
    assert store.stored_through(kept) == (len(log) - 1, "")
    assert store.stored_through(gone)[1] == "the session was deleted"
    assert store.read_frames(kept, 0, len(log) - 1) == stored_rows(log, 0, len(log) - 1)
    saved = store.session(kept)
    assert saved is not None and saved.frame_count == len(log)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_frames_handed_to_a_writer_thread_that_died_fail_rather_than_wait_for_good(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault of ours that ends the thread (not a failed write, which it reports): the next writes fill its
    queue, and one more would have waited for room for good, holding the event loop."""
    from wsinspector.core import writer

    def dies(*_args: object) -> None:
        raise RuntimeError("a fault in the writer")

    monkeypatch.setattr(writer.FrameWriter, "_commit_batch", dies)
    log = flood(writer.WRITE_DEPTH * 4 * OPEN_FRAMES)
    session_id = new_session(store, log)
    hand_over(store, log, session_id, batch=OPEN_FRAMES)  # more writes than the queue holds
    store.settle()
    last, error = store.stored_through(session_id)
    assert last < len(log) - 1 and error == "Could not save: the writing thread stopped"
