"""The write-ahead log is copied into the database file by a thread of its own, not by the flush that happens to
commit past SQLite's threshold; should that thread fail, commits checkpoint again as SQLite does by default."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsinspector.app.checkpoint import Checkpointer
from wsinspector.app.context import DB_NAME, AppContext
from wsinspector.core.store import WAL_LIMIT_BYTES

WAIT_MS = 10_000


@pytest.fixture
def context(qtbot: Any, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, start_echo=False)
    yield ctx
    ctx.shutdown()
    ctx.deleteLater()


def _grow_the_log(context: AppContext, megabytes: int) -> None:
    """Write this much into the store, as recordings do, in transactions of 1 MiB."""
    db = context.store._db
    db.execute("CREATE TABLE IF NOT EXISTS ballast (data BLOB)")
    for _ in range(megabytes):
        with db:
            db.execute("INSERT INTO ballast VALUES (?)", (bytes(1024 * 1024),))


def _autocheckpoint(context: AppContext) -> int:
    return int(context.store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wsinspector-checkpoint"]


def test_the_log_is_checkpointed_by_the_thread_and_cut_back(qtbot: Any, context: AppContext) -> None:
    assert _autocheckpoint(context) == 0  # commits never stop to copy the log
    checkpointer = context._checkpointer
    assert checkpointer is not None and checkpointer.alive
    _grow_the_log(context, 12)
    assert context.store.wal_bytes() > WAL_LIMIT_BYTES
    qtbot.waitUntil(lambda: checkpointer.done >= 1, timeout=WAIT_MS)  # asked for by the context's timer
    # once checkpointed, the next write starts the log over, cut back to the limit
    qtbot.waitUntil(lambda: (_grow_the_log(context, 1), context.store.wal_bytes() <= WAL_LIMIT_BYTES)[1],
                    timeout=WAIT_MS)
    readback = sqlite3.connect(context.db_path)
    try:
        assert readback.execute("SELECT count(*) FROM ballast").fetchone()[0] >= 13
    finally:
        readback.close()


def test_shutting_down_leaves_no_thread(qtbot: Any, data_dir: Path) -> None:
    before = len(_checkpointers())
    context = AppContext(data_dir, start_echo=False)
    assert len(_checkpointers()) == before + 1
    context.shutdown()
    context.deleteLater()
    assert len(_checkpointers()) == before


def test_a_checkpointer_that_cannot_open_the_file_says_why_and_commits_checkpoint_again(
        qtbot: Any, context: AppContext, tmp_path: Path) -> None:
    broken = Checkpointer(tmp_path)  # a folder: SQLite cannot open it
    qtbot.waitUntil(lambda: not broken.alive, timeout=WAIT_MS)
    assert "unable to open database file" in broken.error
    assert context._checkpointer is not None
    context._checkpointer.stop()
    context._checkpointer = broken
    qtbot.waitUntil(lambda: context._checkpointer is None, timeout=WAIT_MS)  # the context's timer sees it
    assert _autocheckpoint(context) == 1000


def test_a_store_that_cannot_be_saved_to_has_no_checkpointer(qtbot: Any, data_dir: Path) -> None:
    (data_dir / DB_NAME).write_bytes(b"not a database at all, but something the user keeps here" * 100)
    context = AppContext(data_dir, start_echo=False)
    try:
        assert not context.saving and context._checkpointer is None
    finally:
        context.shutdown()
        context.deleteLater()
