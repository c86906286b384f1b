"""The timeline's views through the real window against real peers: messages folded from a server's
fragments (live and stored), the time-of-day and gap columns, Pause / Resume / Clear while a server pushes,
following the newest row, and the Size column of compressed frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.peers import QtPeer, WebsocketsPeer
from tests.ui.helpers import WAIT_MS, all_rows, cell, click, close_connection, connect, select_row, wait_rows
from tests.ui.helpers_rows import header_menu, press, row_menu_items
from tests.ui.helpers_sessions import (
    FloodPeer,
    open_stored,
    select_peer,
    type_search,
    wait_filter_settled,
    wait_total,
)
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_GAP, COL_SIZE, COL_WALL

TEXT = "0123456789abcdefghijklmnopqrstuvwxyzABCD"  # 40 bytes: the peer sends frames of 16, 16 and 8


def _fragmenter(qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer]) -> QtPeer:
    peer = qt_peer(outgoing_frame_size=16)
    select_peer(window, peer.listen(), "Fragmenter")
    connect(qtbot, window)
    qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)
    return peer


def test_the_message_view_folds_a_fragmented_message(
    qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer], qtmodeltester: Any
) -> None:
    peer = _fragmenter(qtbot, window, qt_peer)
    page = window.inspector
    peer.send_text_to_all(TEXT)
    wait_rows(qtbot, window, 3)

    click(qtbot, page.view_bar.messages_button)
    rows = wait_rows(qtbot, window, 1)
    assert [(r["dir"], r["opcode"], r["fin"], r["size"], r["preview"]) for r in rows] == [
        ("↓ in", "text · 3 frames", "1", "40", TEXT),
    ]
    qtmodeltester.check(page.model)
    select_row(qtbot, window, 0)
    assert page.detail.text.toPlainText() == TEXT
    assert "Showing the message of frames #0–#2: 40 bytes" in page.detail.summary.text()

    # live: a new message gets one row, whatever its frames
    peer.send_text_to_all("short")
    peer.send_text_to_all(TEXT[::-1])
    rows = wait_rows(qtbot, window, 3)
    assert [(r["opcode"], r["preview"]) for r in rows] == [
        ("text · 3 frames", TEXT), ("text", "short"), ("text · 3 frames", TEXT[::-1]),
    ]
    # copied as a message: the whole payload
    select_row(qtbot, window, 2)
    press(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == TEXT[::-1]

    # a filter applies to the messages' rows, and keeps applying to new ones
    type_search(qtbot, window, "abc")
    wait_filter_settled(qtbot, window)
    assert [r["preview"] for r in all_rows(window)] == [TEXT]  # the match is in its first frame
    peer.send_text_to_all("abc again")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT_MS)
    assert [r["opcode"] for r in all_rows(window)] == ["text · 3 frames", "text"]
    qtmodeltester.check(page.model)
    type_search(qtbot, window, "")
    wait_filter_settled(qtbot, window)

    click(qtbot, page.view_bar.frames_button)
    assert len(wait_rows(qtbot, window, 8)) == 8
    close_connection(qtbot, window)


def test_the_message_view_of_a_stored_session(
    qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer]
) -> None:
    peer = _fragmenter(qtbot, window, qt_peer)
    session_id = window.session.session_id
    assert session_id is not None
    peer.send_text_to_all(TEXT)
    peer.send_text_to_all("whole")
    wait_rows(qtbot, window, 4)
    with qtbot.waitSignal(window.session.session_saved, timeout=WAIT_MS):
        close_connection(qtbot, window)

    open_stored(qtbot, window, session_id)
    page = window.inspector
    assert not page.view_bar.pause_button.isEnabled() and not page.view_bar.clear_button.isEnabled()
    click(qtbot, page.view_bar.messages_button)
    rows = all_rows(window)
    # the two messages, then the closing handshake's frames
    assert [(r["opcode"], r["size"], r["preview"]) for r in rows[:2]] == [
        ("text · 3 frames", "40", TEXT), ("text", "5", "whole"),
    ]
    assert [r["opcode"] for r in rows[2:]] == ["close", "close"]
    select_row(qtbot, window, 0)
    assert page.detail.text.toPlainText() == TEXT
    # a stored session's tab is read-only: nothing to resend or edit from it, copying works
    items = row_menu_items(qtbot, window, 0)
    assert items["Resend [Ctrl+R]"] is False and items["Edit and resend… [Ctrl+E]"] is False
    assert items["Copy as text [Ctrl+C]"] is True


def test_time_of_day_and_gap_columns(qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer]) -> None:
    peer = _fragmenter(qtbot, window, qt_peer)
    view = window.inspector.timeline
    header = view.horizontalHeader()
    assert header.isSectionHidden(COL_WALL) and header.isSectionHidden(COL_GAP)
    peer.send_text_to_all("one")
    wait_rows(qtbot, window, 1)
    peer.send_text_to_all("two")
    wait_rows(qtbot, window, 2)

    header_menu(qtbot, window, "Time of day")
    header_menu(qtbot, window, "Gap (ms)")
    assert not header.isSectionHidden(COL_WALL) and not header.isSectionHidden(COL_GAP)
    # beside the session time, in this order
    assert [header.logicalIndex(v) for v in (1, 2, 3)] == [1, COL_WALL, COL_GAP]

    log = window.session.log
    wall = datetime.fromtimestamp(log.started_wall + (log.ts_ns(1) - log.started_ns) / 1e9)
    assert cell(window, 1, COL_WALL) == wall.strftime("%H:%M:%S.%f")
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6}", cell(window, 0, COL_WALL))
    assert cell(window, 0, COL_GAP) == ""
    assert cell(window, 1, COL_GAP) == f"{(log.ts_ns(1) - log.ts_ns(0)) / 1e6:,.3f}"

    header_menu(qtbot, window, "Gap (ms)")
    assert header.isSectionHidden(COL_GAP)
    close_connection(qtbot, window)


def test_pause_resume_and_clear_while_a_server_pushes(qtbot: Any, window: MainWindow) -> None:
    peer = FloodPeer()
    try:
        select_peer(window, peer.listen(), "Pusher")
        connect(qtbot, window)
        peer.wait_client(qtbot)
        page, bar = window.inspector, window.inspector.view_bar
        peer.push(50)
        wait_total(qtbot, window, 50)
        assert page.model.rowCount() == 50

        click(qtbot, bar.pause_button)
        assert bar.pause_button.text() == "Resume"
        peer.push(30)
        wait_total(qtbot, window, 80, told=False)  # the status bar counts what is recorded
        qtbot.waitUntil(lambda: bar.status.text() == "Paused: 30 new frames not shown yet (still recorded)",
                        timeout=WAIT_MS)
        assert page.model.rowCount() == 50
        click(qtbot, bar.pause_button)
        assert page.model.rowCount() == 80
        assert cell(window, 79, 6) == "pushed 79"
        assert bar.status.text() == ""

        assert "recording keeps every frame" in bar.clear_button.toolTip()
        select_row(qtbot, window, 79)
        assert page.detail.text.toPlainText() == "pushed 79"
        click(qtbot, bar.clear_button)
        assert page.model.rowCount() == 0
        assert page.detail.text.toPlainText() == ""  # what it showed is no longer in the view
        assert page.detail.summary.text() == "Select a frame to see its details"
        assert bar.status.text() == "Cleared: showing from #80 on"
        peer.push(5)
        wait_total(qtbot, window, 85)
        rows = wait_rows(qtbot, window, 5)
        assert [r["preview"] for r in rows] == [f"pushed {i}" for i in range(80, 85)]
        assert cell(window, 0, 0) == "80"
        assert len(window.session.log) == 85  # everything is still in the session
        close_connection(qtbot, window)
    finally:
        peer.stop()


def _last_row_shown(view: Any) -> bool:
    model = view.model()
    rect = view.visualRect(model.index(model.rowCount() - 1, 0))
    return rect.isValid() and view.viewport().rect().contains(rect.center())


def test_selecting_a_row_stops_following_until_asked(qtbot: Any, window: MainWindow) -> None:
    peer = FloodPeer()
    try:
        select_peer(window, peer.listen(), "Pusher")
        connect(qtbot, window)
        peer.wait_client(qtbot)
        page = window.inspector
        view, follow = page.timeline, page.view_bar.follow_button
        bar = view.verticalScrollBar()
        peer.push(100)
        wait_total(qtbot, window, 100)
        assert view.following and follow.isChecked()
        assert bar.value() == bar.maximum()

        select_row(qtbot, window, 95)  # near the bottom, still at it
        assert not view.following and not follow.isChecked()
        top = bar.value()
        peer.push(40)
        wait_total(qtbot, window, 140)
        qtbot.waitUntil(lambda: bar.maximum() > top, timeout=WAIT_MS)  # the view lays out the new rows
        assert bar.value() == top
        assert view.currentIndex().row() == 95
        assert view.new_frames.isVisible() and view.new_frames.text() == "↓ 40 new frames"

        click(qtbot, follow)
        assert view.following and follow.isChecked()
        assert bar.value() == bar.maximum()
        peer.push(10)
        wait_total(qtbot, window, 150)
        qtbot.waitUntil(lambda: _last_row_shown(view), timeout=WAIT_MS)

        # End follows again too, after a selection stopped it
        select_row(qtbot, window, 3)
        assert not view.following
        press(qtbot, window, Qt.Key.Key_End)
        assert view.following and follow.isChecked()
        peer.push(10)
        wait_total(qtbot, window, 160)
        qtbot.waitUntil(lambda: _last_row_shown(view), timeout=WAIT_MS)
        close_connection(qtbot, window)
    finally:
        peer.stop()


def test_size_of_compressed_frames_is_marked(
    qtbot: Any, window: MainWindow, websockets_server: Callable[..., WebsocketsPeer]
) -> None:
    peer = websockets_server()
    select_peer(window, peer.url, "websockets")
    connect(qtbot, window)
    assert "extensions: permessage-deflate" in window.inspector.info.text()
    text = "all work and no play " * 50  # 1,050 bytes that compress well
    window.inspector.composer.editor.setPlainText(text)
    click(qtbot, window.inspector.composer.send_button)
    rows = wait_rows(qtbot, window, 2)
    assert [r["size"] for r in rows] == ["1,050 ◆", "1,050 ◆"]
    log = window.session.log
    wire = log.size(1)
    assert wire < 200
    tip = window.inspector.model.data(window.inspector.model.index(1, COL_SIZE), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"compressed on the wire: {wire:,} B (1,050 B decompressed)"
    select_row(qtbot, window, 1)
    assert f"{wire:,} bytes on the wire, compressed; 1,050 decompressed" in window.inspector.detail.summary.text()
    close_connection(qtbot, window)


def test_size_of_uncompressed_frames_has_no_mark(qtbot: Any, window: MainWindow) -> None:
    """The built-in echo does not compress: the plain number, no tool tip."""
    connect(qtbot, window)
    window.inspector.composer.editor.setPlainText("x" * 1234)
    click(qtbot, window.inspector.composer.send_button)
    rows = wait_rows(qtbot, window, 2)
    assert [r["size"] for r in rows] == ["1,234", "1,234"]
    assert window.inspector.model.data(window.inspector.model.index(1, COL_SIZE), Qt.ItemDataRole.ToolTipRole) is None
    close_connection(qtbot, window)
