"""The keyboard: keys that go to the connection list, the URL, the filter and the composer; pages and tabs; Ctrl+S
on the Inspector and on the Tests page; the list of keys (F1), read from the window's own actions; Tab out of the
timeline; and every dialog opening with its first field ready for typing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDialog, QWidget

from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    _WhenShown,
    connect,
    focus,
    replace_text,
    select_row,
    send_and_wait_for_echo,
)
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.main_window import MainWindow

SHIFT = Qt.KeyboardModifier.ShiftModifier


def _press(qtbot: Any, window: MainWindow, key: Qt.Key, modifiers: Any = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed wherever the keyboard focus is in the window."""
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifiers)


def test_keys_go_to_the_parts_of_the_window(qtbot: Any, window: MainWindow) -> None:
    page = window.inspector
    for key, modifiers, widget in ((Qt.Key.Key_L, CTRL | SHIFT, window.connections.tree),
                                   (Qt.Key.Key_L, CTRL, page.url),
                                   (Qt.Key.Key_F, CTRL, page.filter_bar.search),
                                   (Qt.Key.Key_M, CTRL, page.composer.editor),
                                   (Qt.Key.Key_L, CTRL | SHIFT, window.connections.tree)):
        _press(qtbot, window, key, modifiers)
        qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)
    # from another page, the Inspector comes forward with its field
    _press(qtbot, window, Qt.Key.Key_3, CTRL)
    assert window.tabs.currentWidget() is window.sessions_view
    _press(qtbot, window, Qt.Key.Key_L, CTRL)
    assert window.tabs.currentWidget() is window.connection_tabs
    qtbot.waitUntil(page.url.hasFocus, timeout=WAIT_MS)
    assert page.url.selectedText() == page.url.text()  # typing replaces it


def test_ctrl_digits_choose_the_pages_and_ctrl_tab_the_tabs(qtbot: Any, window: MainWindow) -> None:
    for key, page in ((Qt.Key.Key_3, window.sessions_view), (Qt.Key.Key_4, window.tests_page),
                      (Qt.Key.Key_2, window.graph), (Qt.Key.Key_1, window.connection_tabs)):
        _press(qtbot, window, key, CTRL)
        assert window.tabs.currentWidget() is page
    first = window.inspector
    window.new_tab()
    second = window.inspector
    focus(qtbot, second.composer.editor)
    for key, modifiers, expected in ((Qt.Key.Key_PageUp, CTRL, first), (Qt.Key.Key_PageDown, CTRL, second),
                                     (Qt.Key.Key_Backtab, CTRL | SHIFT, first), (Qt.Key.Key_Tab, CTRL, second)):
        _press(qtbot, window, key, modifiers)
        assert window.inspector is expected


def test_ctrl_s_saves_the_url_on_the_inspector(qtbot: Any, window: MainWindow, peer: Any) -> None:
    profile = window.context.connections.save(ConnectionProfile(name="Saved", endpoint=Endpoint("ws://127.0.0.1:1/a")))
    window.connections.select(profile.id)
    page = window.inspector
    assert page.profile == profile
    replace_text(qtbot, page.url, "ws://127.0.0.1:1/b")
    assert page.url_modified.isVisible()
    focus(qtbot, page.timeline)  # anywhere in the window: Ctrl+S is the window's
    _press(qtbot, window, Qt.Key.Key_S, CTRL)
    assert window.context.connections.get(profile.id).url == "ws://127.0.0.1:1/b"
    assert page.url_modified.isHidden()
    _press(qtbot, window, Qt.Key.Key_S, CTRL)  # nothing left to save: said, nothing changes
    assert "Nothing to save" in window.statusBar().currentMessage()


def test_ctrl_s_saves_the_test_on_the_tests_page(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _press(qtbot, window, Qt.Key.Key_4, CTRL)
    view = window.tests_view
    asked: list[Path] = []

    def answer(suggested: Path) -> Path:  # the Save dialog, answered
        asked.append(suggested)
        return tmp_path / "typed.yaml"

    monkeypatch.setattr(view, "ask_save_path", answer)
    replace_text(qtbot, view.editor.name, "Keyboard test")
    assert view.dirty
    _press(qtbot, window, Qt.Key.Key_S, CTRL)
    assert asked
    assert (tmp_path / "typed.yaml").is_file()
    assert "Keyboard test" in (tmp_path / "typed.yaml").read_text()
    assert not view.dirty


class _DialogGrab(_WhenShown):
    """Notes the first modal dialog that shows (and the widget that has its focus), then closes it."""

    missing = "no dialog showed"

    def __init__(self, qtbot: Any) -> None:
        self.title = ""
        self.focused: QWidget | None = None
        super().__init__(qtbot)

    def _find(self) -> QWidget | None:
        widget = QApplication.activeModalWidget()
        return widget if isinstance(widget, QDialog) else None

    def _act(self, widget: QWidget) -> None:
        self.title = widget.windowTitle()
        self.focused = widget.focusWidget()
        widget.reject()


def test_f1_lists_every_key_of_the_window(qtbot: Any, window: MainWindow) -> None:
    _press(qtbot, window, Qt.Key.Key_F1)
    dialog = window.keys.shortcuts_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    assert dialog.focusWidget() is dialog.search
    rows = dialog.rows()
    listed = {(keys, what) for keys, what, _where in rows}
    for action in window.findChildren(QAction):
        if action.shortcut().isEmpty() or not action.text():
            continue
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        assert any(row_keys == keys for row_keys, _ in listed), (action.text(), keys)
    assert ("Ctrl+K", "Connect / Disconnect") in listed
    assert ("Ctrl+S", "Save") in listed
    assert ("Ctrl+Return", "Send the message") in listed
    assert ("Ctrl+M", "Go to the composer") in listed
    assert ("Ctrl+R", "Resend", "Timeline") in rows  # the timeline's row actions are listed where they work
    qtbot.keyClicks(dialog.search, "tab")
    assert dialog.rows() and all("tab" in " ".join(row).lower() for row in dialog.rows())
    dialog.reject()


def _tab_leaves(qtbot: Any, view: QAbstractItemView) -> None:
    focus(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not view.hasFocus(), timeout=WAIT_MS)
    assert not view.isAncestorOf(QApplication.focusWidget())


def test_tab_leaves_the_timeline_and_the_lists(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "a row to stand on")
    select_row(qtbot, window, 0)
    _tab_leaves(qtbot, window.inspector.timeline)
    _press(qtbot, window, Qt.Key.Key_3, CTRL)
    _tab_leaves(qtbot, window.sessions_view.table)
    _press(qtbot, window, Qt.Key.Key_4, CTRL)
    _tab_leaves(qtbot, window.tests_view.editor.table)


def test_dialogs_open_with_their_first_field_focused(qtbot: Any, window: MainWindow) -> None:
    # the connection's settings: its name
    window.connections.edit_current()
    dialog = window.connections.findChild(QDialog, "profileDialog")
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    assert dialog.focusWidget() is dialog.name
    dialog.reject()
    # Environments: the list of environments
    window.show_environments()
    qtbot.waitUntil(window.environments_dialog.isVisible, timeout=WAIT_MS)
    assert window.environments_dialog.focusWidget() is window.environments_dialog.list
    window.environments_dialog.reject()
    # Connection defaults: the first TLS field
    window.show_connection_defaults()
    defaults = window.defaults_dialog
    qtbot.waitUntil(defaults.isVisible, timeout=WAIT_MS)
    focused = defaults.focusWidget()
    assert focused is not None and defaults.tls.isAncestorOf(focused), focused
    defaults.reject()
    # Paste command line: the command box
    window.transfer.ask_command()
    command = window.findChild(QDialog, "commandDialog")
    qtbot.waitUntil(command.isVisible, timeout=WAIT_MS)
    assert command.focusWidget() is command.editor
    command.reject()
    # Keep stored sessions (modal): how many days
    grab = _DialogGrab(qtbot)
    window.sessions_view.edit_retention()
    grab.wait()
    assert grab.title == "Keep stored sessions"
    assert grab.focused is not None and grab.focused.objectName() == "retentionDays"
