"""Acting on timeline rows as a user does: the row context menu, the header menu, selecting several rows."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from tests.ui.helpers import LEFT, _WhenShown
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_PREVIEW

RIGHT = Qt.MouseButton.RightButton


class PopupPicker(_WhenShown):
    """Clicks the item named ``text`` in the popup menu called ``name`` once it is shown; or, with
    ``inspect``, hands the menu to it and closes the menu."""

    missing = "the context menu did not open"

    def __init__(self, qtbot: Any, name: str, text: str | None = None, inspect: Any = None) -> None:
        self.name, self.text, self.inspect = name, text, inspect
        super().__init__(qtbot)

    def _find(self) -> QWidget | None:
        popup = QApplication.activePopupWidget()
        return popup if isinstance(popup, QMenu) and popup.objectName() == self.name else None

    def _act(self, widget: QWidget) -> None:
        assert isinstance(widget, QMenu)
        if self.inspect is not None:
            self.inspect(widget)
            widget.close()
            return
        action = menu_action(widget, self.text or "")
        assert action.isEnabled(), f"{self.text!r} is disabled"
        self.qtbot.mouseClick(widget, LEFT, pos=widget.actionGeometry(action).center())


def menu_action(menu: QMenu, text: str) -> QAction:
    for action in menu.actions():
        if action.text() == text:
            return action
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


def row_point(window: MainWindow, row: int) -> QPoint:
    view = window.inspector.timeline
    index = window.inspector.model.index(row, COL_PREVIEW)
    view.scrollTo(index)
    return view.visualRect(index).center()


def right_click(qtbot: Any, widget: QWidget, pos: QPoint) -> None:
    """A right click as the platform delivers it: the button pressed and released, then the context menu
    event (the test platform sends no such event of its own)."""
    qtbot.mouseClick(widget, RIGHT, pos=pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)


def row_menu(qtbot: Any, window: MainWindow, row: int, text: str) -> None:
    """Right-click a row and choose ``text`` in its menu."""
    picker = PopupPicker(qtbot, "timelineMenu", text)
    right_click(qtbot, window.inspector.timeline.viewport(), row_point(window, row))
    picker.wait()


def row_menu_items(qtbot: Any, window: MainWindow, row: int) -> dict[str, bool]:
    """Right-click a row: its menu's items (shortcut included, as shown) and whether each is enabled."""
    seen: dict[str, bool] = {}

    def inspect(menu: QMenu) -> None:
        for action in menu.actions():
            if not action.isSeparator():
                keys = action.shortcut().toString()
                seen[action.text() + (f" [{keys}]" if keys else "")] = action.isEnabled()

    picker = PopupPicker(qtbot, "timelineMenu", inspect=inspect)
    right_click(qtbot, window.inspector.timeline.viewport(), row_point(window, row))
    picker.wait()
    return seen


def header_menu(qtbot: Any, window: MainWindow, text: str) -> None:
    """Right-click the timeline's header and toggle the column ``text``."""
    header = window.inspector.timeline.horizontalHeader()
    picker = PopupPicker(qtbot, "timelineColumnsMenu", text)
    right_click(qtbot, header.viewport(), QPoint(10, header.height() // 2))
    picker.wait()


def shift_click_row(qtbot: Any, window: MainWindow, row: int) -> None:
    qtbot.mouseClick(window.inspector.timeline.viewport(), LEFT, Qt.KeyboardModifier.ShiftModifier,
                     row_point(window, row))


def clipboard() -> str:
    return QGuiApplication.clipboard().text()


NO_KEYS = Qt.KeyboardModifier.NoModifier


def press(qtbot: Any, window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier = NO_KEYS) -> None:
    """A key pressed in the timeline (it has the focus after a click on a row)."""
    view = window.inspector.timeline
    if not view.hasFocus():  # a popup menu that closed leaves the offscreen window without focus
        window.activateWindow()
        view.setFocus()
        qtbot.waitUntil(view.hasFocus, timeout=5000)
    qtbot.keyClick(view, key, modifiers)
