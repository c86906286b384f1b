"""Stored sessions damaged inside the file: the window lists and opens them, paints every row (a damaged frame
says so in its row and in the detail pane), filters, finds and graphs them, and never raises; a file damaged past
its header is found at start, nothing is recorded into it and it stays as it was."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt

from tests.damage import big_file, column_of, damage_pages, recorded_file, snapshot, where, write_into
from tests.ui.helpers import all_rows, cell, close_connection, connect, select_row, send_and_wait_for_echo, show_window
from tests.ui.helpers_sessions import open_stored, session_ids, session_rows, show_tab, type_search, wait_filter_settled
from wsinspector.app.context import AppContext
from wsinspector.core import store as store_module
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.store import Store, StoreError
from wsinspector.ui import launch
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_OPCODE, COL_PREVIEW, COLUMNS

ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole,
         Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole)


@contextmanager
def _open(qtbot: Any, data_dir: Path) -> Iterator[MainWindow]:
    context = AppContext(data_dir)
    window = MainWindow(context)
    try:
        show_window(qtbot, window)
        yield window
    finally:
        window.close()
        context.shutdown()


def _every_cell(window: MainWindow) -> None:
    """Every cell asked for every role, and painted; what a painted cell is given (``multiData``, all its roles
    at once) is what it says asked role by role."""
    model = window.inspector.model
    for row in range(model.rowCount()):
        for col in range(len(COLUMNS)):
            index = model.index(row, col)
            for role in ROLES:
                value = model.data(index, role)
                held = QModelRoleData(int(role))
                model.multiData(index, QModelRoleDataSpan(held))
                assert held.data() == value, (row, col, role)
    window.inspector.timeline.viewport().grab()  # painted, as on screen


@pytest.fixture
def flipped(qtbot: Any, data_dir: Path) -> Iterator[tuple[MainWindow, int]]:
    """A session whose frame 7 holds opcode 7 (reserved) in the file."""
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    write_into(path, where(path, column_of(path, "meta")) + 4 * 7, (0x27).to_bytes(4, "little"))
    with _open(qtbot, data_dir) as window:
        yield window, session_id


def test_a_frame_with_a_reserved_opcode_shows_as_damaged_in_its_row_and_its_detail(
        qtbot: Any, flipped: tuple[MainWindow, int], qtmodeltester: Any) -> None:
    window, session_id = flipped
    assert window.banner.isHidden() or window.banner.level != "error"
    open_stored(qtbot, window, session_id)
    qtmodeltester.check(window.inspector.model)
    _every_cell(window)
    assert cell(window, 7, COL_OPCODE) == "damaged"
    assert cell(window, 7, COL_PREVIEW).startswith("damaged in the file")
    assert cell(window, 6, COL_OPCODE) == "text" and cell(window, 8, COL_OPCODE) == "ping"
    select_row(qtbot, window, 7)
    summary = window.inspector.detail.summary.text()
    assert "damaged" in summary and "not a valid frame" in summary
    assert "Unexpected error" not in window.banner.text


def test_find_filters_and_the_health_page_go_over_a_damaged_frame(
        qtbot: Any, flipped: tuple[MainWindow, int]) -> None:
    window, session_id = flipped
    open_stored(qtbot, window, session_id)
    type_search(qtbot, window, "frame")
    wait_filter_settled(qtbot, window)
    rows = all_rows(window)
    assert {row["opcode"] for row in rows} == {"text", "binary", "continuation", "damaged"}  # not pings, pongs, close
    assert "damaged in the file · frame 007" in [row["preview"].strip() for row in rows]
    show_tab(qtbot, window, "Health")
    qtbot.waitUntil(lambda: window.graph.loaded, timeout=10_000)
    assert "Unexpected error" not in window.banner.text


def test_a_session_whose_pages_cannot_be_read_opens_with_a_warning(
        qtbot: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = big_file(path)
    damage_pages(path, path.stat().st_size // 4096 * 2 // 3)
    monkeypatch.setattr(store_module, "CHECK_BYTES", 4096)  # a file too large to be checked whole at start
    with _open(qtbot, data_dir) as window:
        assert window.context.saving
        open_stored(qtbot, window, session_id)
        _every_cell(window)
        window.inspector.timeline.scrollToBottom()
        _every_cell(window)
        assert cell(window, window.inspector.model.rowCount() - 1, COL_OPCODE) == "damaged"
        assert window.banner.level == "warning" and "damaged in the file" in window.banner.text, window.banner.text
        assert "Unexpected error" not in window.banner.text

        # the damage seen, nothing more is written into the file: a new recording stops and says why
        window.inspector.show_live()
        with qtbot.waitSignal(window.context.session.recording_failed, timeout=10_000):
            connect(qtbot, window)
        assert "is damaged" in window.banner.text and "nothing more is saved into it" in window.banner.text
        send_and_wait_for_echo(qtbot, window, "the live view goes on")
        close_connection(qtbot, window)
        # an action that would write says the same, in the app's words
        reports: list[str] = []
        hook = sys.excepthook
        launch._install_excepthook(data_dir / "log.txt", reports.append)
        try:
            window.context.sessions.rename(session_id, "renamed")
        except StoreError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
        finally:
            sys.excepthook = hook
        assert len(reports) == 1 and "is damaged" in reports[0] and "Unexpected error" not in reports[0]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT id, name FROM sessions").fetchall() == [(session_id, "damaged-one")]
    finally:
        db.close()


def test_a_damaged_sessions_row_is_listed_and_opens(qtbot: Any, data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET started_wall = 1e300, ended_wall = 'later', frames_in = x'ff', close_code = 'x'")
    db.commit()
    db.close()
    write_into(path, where(path, b"damaged-one"), b"\xff\xfe\xc3")  # no longer UTF-8
    with _open(qtbot, data_dir) as window:
        assert window.context.saving
        show_tab(qtbot, window, "Sessions")
        (row,) = session_rows(window)
        assert row["Name"].endswith("aged-one") and row["Started"][:4] in ("1969", "1970")
        open_stored(qtbot, window, session_id)
        _every_cell(window)
        assert window.inspector.model.rowCount() == 24


def test_a_file_with_damaged_pages_is_found_at_start_and_nothing_is_recorded_into_it(
        qtbot: Any, data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    big_file(path)
    write_into(path, (path.stat().st_size // 2 // 4096) * 4096, bytes(range(256)) * 16)
    before = snapshot(data_dir)
    with _open(qtbot, data_dir) as window:
        assert not window.context.saving
        assert window.banner.level == "warning"
        assert str(path) in window.banner.text and "damaged" in window.banner.text
        assert "nothing is recorded into it" in window.banner.text
        connect(qtbot, window)
        send_and_wait_for_echo(qtbot, window, "not into the damaged file")
        close_connection(qtbot, window)
        assert session_ids(window) == []
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("stamp", [-(1 << 62), (1 << 63) - 1, 0, 1])
def test_damaged_time_stamps_paint_and_graph(qtbot: Any, data_dir: Path, stamp: int) -> None:
    path = data_dir / "wsinspector.sqlite3"
    session_id = recorded_file(path)
    ts_at = where(path, column_of(path, "ts"))
    for seq in (2, 3, 9):  # a ping, its pong, and the pong after the next ping
        write_into(path, ts_at + 8 * seq, stamp.to_bytes(8, "little", signed=True))
    with _open(qtbot, data_dir) as window:
        open_stored(qtbot, window, session_id)
        _every_cell(window)
        show_tab(qtbot, window, "Health")
        qtbot.waitUntil(lambda: window.graph.loaded, timeout=10_000)
        window.graph.grab()
        window.inspector.jump_to(1e20)
        assert "Unexpected error" not in window.banner.text


def test_a_damaged_saved_connection_is_named_at_start_and_the_rest_work(qtbot: Any, data_dir: Path) -> None:
    path = data_dir / "wsinspector.sqlite3"
    store = Store(path)
    damaged = ConnectionProfile(name="Damaged", endpoint=Endpoint("ws://127.0.0.1:1/damaged"))
    store.save_profile(damaged)
    store.close()
    write_into(path, where(path, b'"url": "ws://127.0.0.1:1/damaged"'), b"\xff{{")
    with _open(qtbot, data_dir) as window:
        assert window.context.saving
        assert window.banner.level == "warning"
        assert "not valid JSON" in window.banner.text and damaged.id in window.banner.text
        assert [p.name for p in window.context.connections.profiles] == ["Local echo"]
        connect(qtbot, window)
        send_and_wait_for_echo(qtbot, window, "still recorded")
        close_connection(qtbot, window)
        assert len(session_ids(window)) == 1
