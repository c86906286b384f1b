"""A message of one very long line never freezes the window: pasted into the composer, echoed back and shown
in the detail pane, it is laid out unwrapped (Qt wraps a line with nowhere to break in time that grows with its
square: 300,000 characters took 12 s); the editor wraps again once its text is short, and a message too large
to edit is refused by Edit and resend with the reason, never loaded."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit

from tests.ui.helpers import CTRL, WAIT_MS, close_connection, connect, focus, press_ctrl_enter, select_row, wait_rows
from tests.ui.helpers_rows import row_menu
from wsinspector.ui.composer import EDIT_LIMIT
from wsinspector.ui.detail import TEXT_LIMIT
from wsinspector.ui.main_window import MainWindow

NO_WRAP = QPlainTextEdit.LineWrapMode.NoWrap
WRAP = QPlainTextEdit.LineWrapMode.WidgetWidth


def test_a_pasted_long_line_is_sent_whole_and_shown_unwrapped(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    page = window.inspector
    editor = page.composer.editor
    line = "Z" * 300_000
    QGuiApplication.clipboard().setText(line)
    focus(qtbot, editor)
    editor.clear()
    qtbot.keyClick(editor, Qt.Key.Key_V, CTRL)
    assert editor.toPlainText() == line
    assert editor.lineWrapMode() is NO_WRAP
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    assert page.session.log.payload(1) == line.encode()  # the echo: every character went and came back

    select_row(qtbot, window, 1)
    text = page.detail.text
    assert text.lineWrapMode() is NO_WRAP
    assert text.toPlainText().startswith("Z" * TEXT_LIMIT)
    assert text.toPlainText().endswith(f"… {300_000 - TEXT_LIMIT:,} more bytes (see Hex or export)")

    editor.setPlainText("short again")  # the editor wraps once its text is short
    assert editor.lineWrapMode() is WRAP
    select_row(qtbot, window, 0)
    close_connection(qtbot, window)


def test_edit_and_resend_refuses_a_message_too_large_to_edit(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    page = window.inspector
    composer = page.composer
    huge = "y" * (EDIT_LIMIT + 1)
    page.session.send(huge.encode(), True)
    qtbot.waitUntil(lambda: page.model.rowCount() >= 2, timeout=WAIT_MS)  # (the echo comes back in fragments)
    composer.editor.setPlainText("my draft")
    select_row(qtbot, window, 0)
    row_menu(qtbot, window, 0, "Edit and resend…")
    qtbot.waitUntil(composer.error.isVisible, timeout=WAIT_MS)
    assert composer.error.text().startswith(f"This message is {EDIT_LIMIT + 1:,} characters: too large to edit")
    assert composer.editor.toPlainText() == "my draft"  # the draft stays; nothing was loaded
    close_connection(qtbot, window)
