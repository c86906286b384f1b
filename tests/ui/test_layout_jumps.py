"""Nothing under the mouse moves when a message appears: the banner keeps its place, an inline error (the
composer's, the filter bar's) keeps its own, and a long error never widens the window. Geometry is compared
before and after, in the window's coordinates."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget

from tests.ui.helpers import WAIT_MS, click, connect, focus, press_ctrl_enter, replace_text
from tests.ui.helpers_sessions import toggle, type_search
from wsinspector.ui.main_window import MainWindow


def _where(window: MainWindow, widget: QWidget) -> QRect:
    """The widget's rectangle in the window's coordinates."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _places(window: MainWindow) -> dict[str, QRect]:
    """Where the controls are once every pending layout has been done (layouts are redone in posted events)."""
    for _ in range(5):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    page = window.inspector
    bar = page.filter_bar
    return {name: _where(window, widget) for name, widget in (
        ("url", page.url), ("connect", page.connect_button), ("search", bar.search), ("next", bar.next),
        ("jump", bar.jump), ("timeline", page.timeline), ("send", page.composer.send_button),
        ("editor", page.composer.editor), ("close", page.composer.close_button))}


def test_an_invalid_regex_neither_resizes_the_window_nor_moves_the_bar(qtbot: Any, window: MainWindow) -> None:
    bar = window.inspector.filter_bar
    toggle(qtbot, window, bar.regex, True)
    size, places = window.size(), _places(window)

    type_search(qtbot, window, "(" + "unclosed group " * 20)
    assert bar.error.isVisible()
    assert bar.error.text().startswith("Invalid regular expression"), bar.error.text()
    assert bar.error.toolTip() == bar.error.text()  # the whole message, however narrow its place
    assert window.statusBar().currentMessage() == bar.error.text()  # and readable whole in the status bar
    assert window.size() == size
    assert _places(window) == places

    type_search(qtbot, window, "fine")
    assert bar.error.isHidden()
    assert window.size() == size
    assert _places(window) == places


def test_the_composer_error_does_not_move_send(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    composer = window.inspector.composer
    size, places = window.size(), _places(window)

    replace_text(qtbot, composer.editor, "{{not_defined_anywhere}} " * 10)
    press_ctrl_enter(qtbot, window)
    qtbot.waitUntil(composer.error.isVisible, timeout=WAIT_MS)
    assert "not_defined_anywhere" in composer.error.text()
    assert window.size() == size
    assert _places(window) == places

    replace_text(qtbot, composer.editor, "hello")
    press_ctrl_enter(qtbot, window)
    qtbot.waitUntil(composer.error.isHidden, timeout=WAIT_MS)
    assert _places(window) == places


def test_the_banner_keeps_its_place(qtbot: Any, window: MainWindow) -> None:
    window.banner.clear()
    replace_text(qtbot, window.inspector.url, "no scheme here")
    size, places = window.size(), _places(window)
    qtbot.keyClick(window.inspector.url, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.banner.level == "error", timeout=WAIT_MS)
    assert window.banner.isVisible()
    assert window.size() == size
    assert _places(window) == places

    # a message of many lines scrolls inside the banner's place
    window.banner.show_message("\n".join(f"line {n}" for n in range(12)), "warning")
    assert window.size() == size
    assert _places(window) == places

    close = next(b for b in window.banner.findChildren(QWidget) if getattr(b, "toolTip", lambda: "")() == "Dismiss")
    click(qtbot, close)
    assert window.banner.isHidden()
    assert _places(window) == places
    focus(qtbot, window.inspector.url)


def test_connecting_and_disconnecting_move_nothing(qtbot: Any, window: MainWindow) -> None:
    """The "Connected to …" line takes its place from the start: the timeline does not jump down on connect."""
    window.resize(900, window.height())  # narrow: a long line would wrap onto a second one
    size, places = window.size(), _places(window)
    connect(qtbot, window)
    page = window.inspector
    assert page.info.isVisible() and page.info.text().startswith("Connected to ")
    assert window.size() == size
    # the URL field gives room to the recording badge; the button under the mouse and all below stay put
    del places["url"]
    assert {name: rect for name, rect in _places(window).items() if name != "url"} == places
    with qtbot.waitSignal(page.session.state_changed, timeout=WAIT_MS):
        click(qtbot, page.connect_button)
    qtbot.waitUntil(lambda: page.connect_button.text() == "Connect", timeout=WAIT_MS)
    assert {name: rect for name, rect in _places(window).items() if name != "url"} == places
