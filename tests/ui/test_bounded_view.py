"""What a user sees of the bounded live view: a connection switched to "live view only" in its settings records
nothing and shows which older frames it let go of; the Sessions page shows the disk used and keeps sessions by
the retention the user sets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QWidget

from tests.ui.helpers import WAIT_MS, ModalHandler, click, close_connection, connect
from tests.ui.helpers_sessions import (
    FloodPeer,
    message_box_answer,
    select_local_echo,
    select_peer,
    session_ids,
    show_tab,
    wait_total,
)
from wsinspector.app import connection as connection_module
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import human_size
from wsinspector.core.retention import Retention
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import ProfileDialog
from wsinspector.ui.sessions_view import RetentionDialog
from wsinspector.ui.timeline import COL_PREVIEW, DROPPED_TEXT

WINDOW = 50
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


@pytest.fixture
def flood_peer() -> Iterator[FloodPeer]:
    peer = FloodPeer()
    yield peer
    peer.stop()


def _untick_record(qtbot: Any) -> Any:
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        assert dialog.record.isChecked()  # recorded unless the user says otherwise
        dialog.record.click()  # the box spans the form's width: its middle is past its text
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Save))

    return answer


def test_a_live_view_only_connection_records_nothing_and_shows_what_it_let_go_of(
    qtbot: Any, window: MainWindow, flood_peer: FloodPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_module, "WINDOW_FRAMES", WINDOW)
    profile = select_peer(window, flood_peer.listen(), "Flood")
    handler = ModalHandler(qtbot, _untick_record(qtbot))
    click(qtbot, window.inspector.edit_button)
    handler.wait()
    saved = next(p for p in window.context.connections.profiles if p.id == profile.id)
    assert not saved.health.record
    connect(qtbot, window)
    inspector = window.inspector
    assert inspector.recording_label.isVisible() and inspector.recording_label.text() == "Live view only"
    assert window.session.session_id is None
    flood_peer.wait_client(qtbot)
    flood_peer.push(WINDOW * 5)
    wait_total(qtbot, window, WINDOW * 5)
    log = window.session.log
    qtbot.waitUntil(lambda: len(log.dropped) > 0, timeout=WAIT_MS)
    window.session.flush()  # the counts follow the next flush
    dropped = len(log.dropped)
    assert inspector.counts.text().endswith(f"· {dropped:,} older not kept")
    model = inspector.model
    assert model.data(model.index(0, COL_PREVIEW)) == DROPPED_TEXT
    assert model.data(model.index(0, 1)) == ""
    last = model.rowCount() - 1
    assert model.data(model.index(last, COL_PREVIEW)) == f"pushed {WINDOW * 5 - 1}"
    close_connection(qtbot, window)
    assert not inspector.recording_label.isVisible()
    assert window.context.sessions.sessions() == []


def test_a_recorded_connection_says_so(qtbot: Any, window: MainWindow) -> None:
    select_local_echo(window)
    connect(qtbot, window)
    assert window.inspector.recording_label.text() == "● Recording"
    close_connection(qtbot, window)


def _recorded(qtbot: Any, window: MainWindow, payload: bytes) -> int:
    """A session of ``payload`` sent and echoed (too big to type into the composer); its id."""
    connect(qtbot, window)
    session_id = window.session.session_id
    assert session_id is not None
    window.session.send(payload, False)
    qtbot.waitUntil(lambda: window.session.log.frames_in == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(window.session.session_saved, timeout=WAIT_MS):
        close_connection(qtbot, window)
    return session_id


def _set_retention(qtbot: Any, days: float, mib: int, confirm: Any, handlers: list[ModalHandler]) -> Any:
    """A ModalHandler callback that sets the retention dialog's fields and clicks OK, with a handler armed for
    the question that follows (``confirm`` answers it)."""
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, RetentionDialog)
        dialog.days.setValue(days)
        dialog.size.setValue(mib)
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        handlers.append(ModalHandler(qtbot, confirm))
        click(qtbot, buttons.button(QDialogButtonBox.StandardButton.Ok))

    return answer


def test_the_sessions_page_shows_the_disk_used_and_keeps_sessions_by_the_retention_set(
    qtbot: Any, window: MainWindow, context: AppContext
) -> None:
    select_local_echo(window)
    first = _recorded(qtbot, window, b"x" * 300_000)
    second = _recorded(qtbot, window, b"y" * 300_000)
    show_tab(qtbot, window, "Sessions")
    view = window.sessions_view
    assert view.disk.text().startswith("Disk used: ") and view.disk.text().endswith(" · keep everything")
    assert "(sessions: 1.1 MiB)" in view.disk.text()

    # 1 MiB holds only the newest: the user is asked first, and can say no
    seen: dict[str, str] = {}
    questions: list[ModalHandler] = []
    handler = ModalHandler(qtbot, _set_retention(qtbot, 0, 1, message_box_answer(qtbot, NO, seen), questions))
    click(qtbot, view.retention_button)
    handler.wait()
    questions[0].wait()
    assert seen["title"] == "Delete sessions" and "This deletes 1 stored session “Local echo”" in seen["text"]
    assert session_ids(window) == [second, first] and context.sessions.retention == Retention()

    handler = ModalHandler(qtbot, _set_retention(qtbot, 30, 1, message_box_answer(qtbot, YES, seen), questions))
    click(qtbot, view.retention_button)
    handler.wait()
    questions[1].wait()
    assert session_ids(window) == [second]
    assert context.sessions.retention == Retention(max_age_days=30, max_bytes=1 << 20)
    kept = human_size(context.store.stored_bytes()[second])
    assert view.disk.text().endswith(f"(sessions: {kept}) · keep 30 days and 1.0 MiB")
