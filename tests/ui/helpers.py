"""Driving the real main window the way a user does: clicks, typing, keyboard shortcuts, modal dialogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QMenu,
    QToolButton,
    QWidget,
)

from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ENGINE_WIRE
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import (
    COL_DIR,
    COL_FIN,
    COL_OPCODE,
    COL_PREVIEW,
    COL_SIZE,
    COL_TIME,
)

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
WAIT_MS = 5000


def click(qtbot: Any, widget: QWidget) -> None:
    assert widget.isVisible(), f"{widget!r} is not visible"
    assert widget.isEnabled(), f"{widget!r} is disabled"
    qtbot.mouseClick(widget, LEFT)


def _discard_unsaved_test(window: MainWindow) -> None:
    if window.tests_page.loaded:
        window.tests_view.dirty = False  # whatever a test left unsaved on the Tests page: no question on closing


def show_window(qtbot: Any, window: MainWindow) -> None:
    qtbot.addWidget(window, before_close_func=_discard_unsaved_test)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)


def focus(qtbot: Any, widget: QWidget) -> None:
    """Click into a field so it has the keyboard focus (what a shortcut with WidgetShortcut context needs).

    Like a user's click, this first brings the field's window to the front (after a dialog closed, the
    offscreen platform leaves no window active)."""
    top = widget.window()
    if not top.isActiveWindow():
        top.activateWindow()
        qtbot.waitUntil(top.isActiveWindow, timeout=WAIT_MS)
    target = widget.viewport() if hasattr(widget, "viewport") else widget
    qtbot.mouseClick(target, LEFT)
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)


def replace_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Select everything in a text field and type ``text`` over it (ASCII; a line break is the Return key)."""
    focus(qtbot, widget)
    qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    for index, line in enumerate(text.split("\n")):
        if index:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def set_mode(window: MainWindow, mode: PayloadMode) -> None:
    combo = window.inspector.composer.mode
    combo.setCurrentIndex(combo.findText(mode.value))
    assert combo.currentText() == mode.value


def compose(qtbot: Any, window: MainWindow, text: str, mode: PayloadMode = PayloadMode.TEXT) -> None:
    set_mode(window, mode)
    replace_text(qtbot, window.inspector.composer.editor, text)
    assert window.inspector.composer.editor.toPlainText() == text


def control_payload(qtbot: Any, window: MainWindow, text: str, mode: PayloadMode = PayloadMode.TEXT) -> None:
    """Type the payload of Ping and of an unsolicited pong into its own field (never the message's)."""
    composer = window.inspector.composer
    composer.control_mode.setCurrentIndex(composer.control_mode.findData(mode))
    replace_text(qtbot, composer.control_payload, text)
    assert composer.control_payload.text() == text


def press_ctrl_enter(qtbot: Any, window: MainWindow) -> None:
    editor = window.inspector.composer.editor
    focus(qtbot, editor)
    qtbot.keyClick(editor, Qt.Key.Key_Return, CTRL)


def use_engine(window: MainWindow, engine: str) -> None:
    """Save the selected connection with ``engine`` (as its settings dialog would) and keep it selected."""
    profile = window.connections.current_profile()
    assert profile is not None, "select a connection first"
    saved = window.context.connections.save(profile.with_changes(protocol={"engine": engine}))
    window.connections.select(saved.id)
    current = window.connections.current_profile()
    assert current is not None and current.protocol.engine == engine
    # the window took the change: frame sizes are a Wire engine feature
    assert window.inspector.composer.frame_size.isEnabled() == (engine == ENGINE_WIRE)


def toggle_check_box(qtbot: Any, box: QCheckBox) -> None:
    """Click a check box on its indicator (a stretched check box does not take clicks right of its label)."""
    assert box.isVisible() and box.isEnabled(), f"{box.text()!r} cannot be clicked"
    was = box.isChecked()
    qtbot.mouseClick(box, LEFT, pos=QPoint(6, box.height() // 2))
    assert box.isChecked() != was, f"clicking {box.text()!r} did not toggle it"


def type_number(qtbot: Any, spin: QAbstractSpinBox, text: str) -> None:
    """Click into a spin box, select its number and type ``text`` over it."""
    focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(spin, text)


def choose_fault(qtbot: Any, window: MainWindow, action: QAction) -> None:
    """Faults ▸ ``action``, as a user picks it: click the composer's Faults button, then the item in the menu
    that opens."""
    button = window.inspector.composer.faults_button
    menu = button.menu()
    assert action in menu.actions(), f"{action.text()!r} is not in the Faults menu"
    picker = MenuPicker(qtbot, menu, action)
    click(qtbot, button)
    picker.wait()
    assert not menu.isVisible()


class _WhenShown:
    """Acts on a widget once it is shown: arm it *before* the action that shows it (a popup menu or a modal
    dialog runs its own event loop). A zero-delay single-shot timer looks for the widget and, while it is not
    up, tries again a bounded number of times, so no timer outlives the test. An exception while acting closes
    the widget and is re-raised by :meth:`wait`."""

    #: what the test is told when the widget never shows
    missing = "the widget did not show"

    def __init__(self, qtbot: Any, attempts: int = 500) -> None:
        self.qtbot = qtbot
        self.attempts = attempts
        self.done = False
        self.error: BaseException | None = None
        QTimer.singleShot(0, self._attempt)

    def _find(self) -> QWidget | None:
        raise NotImplementedError

    def _act(self, widget: QWidget) -> None:
        raise NotImplementedError

    def _attempt(self) -> None:
        widget = self._find()
        if widget is None:
            self.attempts -= 1
            if self.attempts > 0:
                QTimer.singleShot(10, self._attempt)
            else:
                self.error = AssertionError(self.missing)
                self.done = True
            return
        try:
            self._act(widget)
        except BaseException as exc:  # handed to the test by wait()
            self.error = exc
            if widget.isVisible():
                widget.close()
        finally:
            self.done = True

    def wait(self) -> None:
        self.qtbot.waitUntil(lambda: self.done, timeout=10_000)
        if self.error is not None:
            raise self.error


class MenuPicker(_WhenShown):
    """Clicks ``action`` in ``menu`` once the menu is shown."""

    missing = "the menu did not open"

    def __init__(self, qtbot: Any, menu: QMenu, action: QAction, attempts: int = 500) -> None:
        self.menu = menu
        self.action = action
        super().__init__(qtbot, attempts)

    def _find(self) -> QWidget | None:
        return self.menu if self.menu.isVisible() else None

    def _act(self, widget: QWidget) -> None:
        rect = self.menu.actionGeometry(self.action)
        assert rect.isValid(), f"{self.action.text()!r} is not shown in the menu"
        self.qtbot.mouseClick(self.menu, LEFT, pos=rect.center())


def connect(qtbot: Any, window: MainWindow) -> None:
    """Click Connect and wait for the handshake to complete."""
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    assert window.inspector.state_label.text() == "Open"


def close_connection(qtbot: Any, window: MainWindow) -> None:
    """Click Disconnect (a normal 1000 close) and wait until the connection is closed."""
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)


def cell(window: MainWindow, row: int, col: int) -> str:
    value = window.inspector.model.data(window.inspector.model.index(row, col), Qt.ItemDataRole.DisplayRole)
    assert isinstance(value, str)
    return value


def row_texts(window: MainWindow, row: int) -> dict[str, str]:
    """What the timeline shows for one row, by column."""
    return {
        "time": cell(window, row, COL_TIME),
        "dir": cell(window, row, COL_DIR),
        "opcode": cell(window, row, COL_OPCODE),
        "fin": cell(window, row, COL_FIN),
        "size": cell(window, row, COL_SIZE),
        "preview": cell(window, row, COL_PREVIEW),
    }


def all_rows(window: MainWindow) -> list[dict[str, str]]:
    return [row_texts(window, row) for row in range(window.inspector.model.rowCount())]


def wait_rows(qtbot: Any, window: MainWindow, count: int) -> list[dict[str, str]]:
    """Wait until the timeline shows exactly ``count`` rows; return them."""
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() >= count, timeout=WAIT_MS)
    rows = all_rows(window)
    assert len(rows) == count, rows
    return rows


def send_and_wait_for_echo(qtbot: Any, window: MainWindow, text: str) -> list[dict[str, str]]:
    """Type ``text`` as a text message, send it with Ctrl+Enter, wait for the echo; return the two new rows."""
    before = window.inspector.model.rowCount()
    compose(qtbot, window, text)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, before + 2)[before:]
    assert [(r["dir"], r["opcode"], r["preview"]) for r in rows] == [
        ("↑ out", "text", text),
        ("↓ in", "text", text),
    ]
    return rows


def select_row(qtbot: Any, window: MainWindow, row: int) -> None:
    """Click a timeline row, as a user selects a frame."""
    view = window.inspector.timeline
    index: QModelIndex = window.inspector.model.index(row, COL_PREVIEW)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())
    assert view.currentIndex().row() == row


def tool_button(panel: QWidget, action: Any) -> QToolButton:
    for button in panel.findChildren(QToolButton):
        if button.defaultAction() is action:
            return button
    raise AssertionError(f"no button for {action.text()}")


def button_with_text(parent: QWidget, text: str) -> QAbstractButton:
    for button in parent.findChildren(QAbstractButton):
        if button.text().replace("&", "") == text and button.isVisible():
            return button
    raise AssertionError(f"no visible button {text!r} in {parent!r}")


class ModalHandler(_WhenShown):
    """Handles the next modal dialog (``QApplication.activeModalWidget()``): arm it *before* the action that
    opens the dialog; once it is up, ``callback(dialog)`` is called, which must close it."""

    missing = "no modal dialog appeared"

    def __init__(self, qtbot: Any, callback: Callable[[QWidget], None], attempts: int = 500) -> None:
        self.callback = callback
        self.dialog_title = ""
        super().__init__(qtbot, attempts)

    def _find(self) -> QWidget | None:
        return QApplication.activeModalWidget()

    def _act(self, dialog: QWidget) -> None:
        self.dialog_title = dialog.windowTitle()
        # A window manager gives a new modal dialog the focus; the offscreen platform does not.
        dialog.activateWindow()
        self.qtbot.waitUntil(dialog.isActiveWindow, timeout=WAIT_MS)
        self.callback(dialog)
