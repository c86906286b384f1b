"""The Sessions page: recorded sessions are listed with their outcome and counters; rename, note, delete."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.ui.helpers import WAIT_MS, ModalHandler, click, select_row
from tests.ui.helpers_sessions import (
    click_session,
    echo_round,
    frame_total,
    input_dialog_answer,
    message_box_answer,
    open_stored,
    select_local_echo,
    select_peer,
    session_ids,
    session_rows,
    session_tooltip,
    sessions_button,
    show_tab,
)
from wsinspector.app.context import AppContext
from wsinspector.core.store import Store
from wsinspector.ui.main_window import MainWindow

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


@pytest.fixture
def bound_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 with nothing listening: a connection there is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def _two_rounds(qtbot: Any, window: MainWindow) -> tuple[int, int]:
    first = echo_round(qtbot, window, ["one", "two"])
    second = echo_round(qtbot, window, ["three"])
    return first, second


def _persisted(context: AppContext, session_id: int) -> Any:
    """The session as another connection to the database file reads it: what is really on disk."""
    other = Store(context.db_path)
    try:
        return other.session(session_id)
    finally:
        other.close()


def test_two_rounds_are_listed_as_closed_sessions(
    qtbot: Any, window: MainWindow, context: AppContext, qtmodeltester: Any
) -> None:
    first, second = _two_rounds(qtbot, window)
    show_tab(qtbot, window, "Sessions")
    qtmodeltester.check(window.sessions_view.model)

    assert window.sessions_view.summary.text() == "2 sessions"
    assert session_ids(window) == [second, first]  # newest first
    newest, oldest = session_rows(window)
    for row in (newest, oldest):
        assert row["Name"] == "Local echo"
        assert row["Status"] == "closed"
        assert row["URL"] == context.echo_url
        assert row["Close"] == "1000 (normal closure)"
        assert row["Ended"] != "" and row["Ended"] != "recording…"
        assert row["Duration"].endswith(" s"), row["Duration"]
        assert row["Note"] == ""
    # the echo's answers and its close frame are counted in, our messages and our close frame out
    assert (oldest["Frames ↓"], oldest["Frames ↑"]) == ("3", "3")
    assert (oldest["Bytes ↓"], oldest["Bytes ↑"]) == ("8 B", "8 B")  # "one" "two" + close code 1000, both ways
    assert (newest["Frames ↓"], newest["Frames ↑"]) == ("2", "2")
    assert (newest["Bytes ↓"], newest["Bytes ↑"]) == ("7 B", "7 B")

    # a row is selected, so every button that needs one is usable
    assert window.sessions_view.current_record() is not None
    for text in ("Open", "Rename…", "Note…", "Delete", "Export…", "Import…"):
        assert sessions_button(window, text).isEnabled(), text


def test_rename_and_note_change_the_row_and_are_saved(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    first, second = _two_rounds(qtbot, window)
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, first)

    handler = ModalHandler(qtbot, input_dialog_answer(qtbot, "Login flow"))
    click(qtbot, sessions_button(window, "Rename…"))
    handler.wait()
    assert handler.dialog_title == "Rename session"
    names = {sid: row["Name"] for sid, row in zip(session_ids(window), session_rows(window), strict=True)}
    assert names == {first: "Login flow", second: "Local echo"}
    assert window.sessions_view.current_record().id == first  # type: ignore[union-attr]
    assert _persisted(context, first).name == "Login flow"
    assert _persisted(context, second).name == "Local echo"

    handler = ModalHandler(qtbot, input_dialog_answer(qtbot, "checks the login\nthen logs out"))
    click(qtbot, sessions_button(window, "Note…"))
    handler.wait()
    assert handler.dialog_title == "Session note"
    row = dict(zip(session_ids(window), session_rows(window), strict=True))[first]
    assert row["Note"] == "checks the login then logs out"  # one line in the table
    assert session_tooltip(window, first).endswith("\n\nchecks the login\nthen logs out")
    assert _persisted(context, first).note == "checks the login\nthen logs out"

    # a blank name is refused: the session keeps its name
    handler = ModalHandler(qtbot, input_dialog_answer(qtbot, "   "))
    click(qtbot, sessions_button(window, "Rename…"))
    handler.wait()
    assert dict(zip(session_ids(window), session_rows(window), strict=True))[first]["Name"] == "Login flow"
    assert _persisted(context, first).name == "Login flow"

    # the new name is what the Inspector shows when the session is opened
    open_stored(qtbot, window, first)
    assert "<b>Login flow</b>" in window.inspector.viewing_label.text()


def test_delete_asks_first(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    first, second = _two_rounds(qtbot, window)
    store = context.store
    assert store.stored_frame_count(first) == 6  # 2 messages, 2 echoes, 2 close frames
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, first)

    seen: dict[str, str] = {}
    handler = ModalHandler(qtbot, message_box_answer(qtbot, NO, seen))
    click(qtbot, sessions_button(window, "Delete"))
    handler.wait()
    assert seen["title"] == "Delete session"
    assert "Delete the session “Local echo”" in seen["text"]
    assert "with its 6 frames? This cannot be undone." in seen["text"]
    assert session_ids(window) == [second, first]
    assert store.stored_frame_count(first) == 6

    handler = ModalHandler(qtbot, message_box_answer(qtbot, YES, seen))
    click(qtbot, sessions_button(window, "Delete"))
    handler.wait()
    assert session_ids(window) == [second]
    assert window.sessions_view.summary.text() == "1 session"
    assert store.session(first) is None
    assert store.stored_frame_count(first) == 0
    assert store.read_frames(first, 0, 100) == []
    assert frame_total(store) == store.stored_frame_count(second) == 4
    assert _persisted(context, first) is None


def test_deleting_the_session_being_viewed(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    """The Inspector must not go on showing (and reading) a session that no longer exists."""
    first = echo_round(qtbot, window, ["soon gone"])
    open_stored(qtbot, window, first)
    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, first)
    handler = ModalHandler(qtbot, message_box_answer(qtbot, YES, {}))
    click(qtbot, sessions_button(window, "Delete"))
    handler.wait()
    assert session_ids(window) == []

    show_tab(qtbot, window, "Inspector")
    # Whatever the Inspector shows now, it is not the deleted session, and selecting a frame works.
    assert not window.inspector.viewing_bar.isVisible(), f"still shown: {window.inspector.viewing_label.text()}"
    assert window.inspector.viewing is None
    if window.inspector.model.rowCount():
        select_row(qtbot, window, 0)
        assert window.inspector.detail.text.toPlainText() == "soon gone"


def test_refused_connection_is_listed_as_failed(
    qtbot: Any, window: MainWindow, context: AppContext, bound_port: int
) -> None:
    url = f"ws://127.0.0.1:{bound_port}/"
    select_peer(window, url, "Nothing there")
    with qtbot.waitSignals([window.session.failed, window.session.session_saved], timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    show_tab(qtbot, window, "Sessions")
    rows = session_rows(window)
    assert len(rows) == 1
    row = rows[0]
    assert (row["Name"], row["Status"], row["URL"]) == ("Nothing there", "failed", url)
    assert (row["Frames ↓"], row["Frames ↑"], row["Bytes ↓"], row["Bytes ↑"]) == ("0", "0", "0 B", "0 B")
    assert row["Close"] == ""
    assert row["Reason"].startswith("Connection refused"), row["Reason"]  # why, in the list itself
    assert row["Ended"] not in ("", "recording…")
    (failed_id,) = session_ids(window)
    assert "failed: Connection refused" in session_tooltip(window, failed_id)

    # the next session against the echo is listed above it
    show_tab(qtbot, window, "Inspector")
    select_local_echo(window)
    ok = echo_round(qtbot, window, ["fine"])
    show_tab(qtbot, window, "Sessions")
    assert session_ids(window) == [ok, failed_id]
    assert [r["Status"] for r in session_rows(window)] == ["closed", "failed"]
