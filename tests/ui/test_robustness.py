"""Inputs and situations found in review: each once raised inside a Qt slot, lost state, or misreported."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.peers import never_answers
from wsinspector.app.context import AppContext
from wsinspector.core.store import SessionStatus, Store
from wsinspector.ui.main_window import MainWindow

WAIT_MS = 10_000


def _damage_sessions_table(db: Path) -> None:
    """A valid header and schema, but a page of the sessions table overwritten with garbage."""
    store = Store(db)
    for i in range(400):
        store.create_session(f"session {i}" * 5, "ws://127.0.0.1:1/", float(i), 0)
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        last_rows = raw.execute("SELECT count(*) FROM sessions").fetchone()[0]
    assert last_rows == 400 and pages > 4
    with db.open("r+b") as fp:
        fp.seek((pages - 1) * page_size + 8)  # the last page: session rows, written last
        fp.write(b"\xde\xad" * 50)


def test_a_database_damaged_past_its_header_is_reported_and_left_untouched(qtbot: Any, data_dir: Path) -> None:
    db = data_dir / "wsinspector.sqlite3"
    _damage_sessions_table(db)
    before = db.read_bytes()
    context = AppContext(data_dir)
    try:
        window = MainWindow(context)
        qtbot.addWidget(window)
        assert not context.saving
        message = window.banner.label.text()
        assert window.banner.level == "warning" and "damaged" in message and "left untouched" in message
        assert [p.name for p in context.connections.profiles] == ["Local echo"]  # the app still works
    finally:
        context.shutdown()
    assert db.read_bytes() == before


def test_cancelling_a_connection_attempt_ends_its_session(qtbot: Any, context: AppContext, window: MainWindow,
                                                          hostile: Any) -> None:
    window.inspector.url.setText(hostile(never_answers))
    window.inspector.toggle_connection()
    qtbot.waitUntil(lambda: window.inspector.connect_button.text() == "Cancel", timeout=WAIT_MS)
    with qtbot.waitSignal(context.session.session_saved, timeout=WAIT_MS):
        window.inspector.toggle_connection()
    (record,) = context.store.sessions()
    assert record.status == SessionStatus.CLOSED
    assert record.close_reason == "cancelled before the connection opened"
    assert record.ended_wall is not None
    assert window.banner.level != "error"


def test_quitting_while_connecting_is_not_a_failure(qtbot: Any, data_dir: Path, hostile: Any) -> None:
    context = AppContext(data_dir)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.inspector.url.setText(hostile(never_answers))
    window.inspector.toggle_connection()
    qtbot.waitUntil(lambda: window.inspector.connect_button.text() == "Cancel", timeout=WAIT_MS)
    window.close()
    (record,) = context.store.sessions()
    context.shutdown()
    assert record.status == SessionStatus.CLOSED, record


@pytest.mark.parametrize("typed", ["inf", "nan", "1e400", "-inf", "abc"])
def test_go_to_time_refuses_what_is_not_a_time(qtbot: Any, window: MainWindow, typed: str) -> None:
    window.inspector.filter_bar.jump.setText(typed)
    qtbot.keyClick(window.inspector.filter_bar.jump, Qt.Key.Key_Return)
    assert window.inspector.filter_bar.error.text().startswith(("Not a time in seconds", "Times start at 0 s"))


def test_a_huge_time_goes_to_the_last_frame_of_a_stored_session(qtbot: Any, context: AppContext,
                                                                 window: MainWindow) -> None:
    session_id = context.store.create_session("s", "ws://127.0.0.1:1/", 0.0, 0)
    context.store.append_frames(session_id, [(i, i * 1000, 1, 1, None, None, b"x") for i in range(5)])
    window.open_session(session_id)
    window.inspector.jump_to(1e20)
    assert window.inspector.timeline.currentIndex().row() == 4


def test_server_text_is_shown_as_text_not_markup(qtbot: Any, window: MainWindow) -> None:
    window.banner.show_message('server said: limit <5 req/s> exceeded, <i>slow down</i>', "warning")
    assert window.banner.label.textFormat() == Qt.TextFormat.PlainText
    assert window.banner.text == 'server said: limit <5 req/s> exceeded, <i>slow down</i>'


def test_a_stored_session_with_events_of_unknown_kinds_still_draws(qtbot: Any, window: MainWindow) -> None:
    """Events written by a newer version (or damaged) are left out of the graph; the known ones are drawn."""
    store = window.context.store
    session_id = store.create_session("from the future", "ws://127.0.0.1:1/", 1.0, 0)
    store.add_event(session_id, 0, 1_000_000_000, "teleport", "a kind this version does not know")
    store.add_event(session_id, 0, 2_000_000_000, "disconnect", "gone")
    store.finish_session(session_id, SessionStatus.CLOSED, 2.0, 1000, "")
    window.open_session(session_id)
    window.tabs.setCurrentWidget(window.graph)
    qtbot.waitUntil(lambda: window.graph.loaded, timeout=WAIT_MS)
    graph: Any = window.graph.content()
    assert [(kind, label) for _t, kind, label in graph.markers()] == [("disconnect", "gone")]
