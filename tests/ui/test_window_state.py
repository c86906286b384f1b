"""The window remembers across restarts (Qt's settings in a file of the test's own): its size, the splitters, the
timeline's columns, the open tabs (back disconnected), the current tab and page, and each connection's composer
draft. A damaged or foreign settings file is ignored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from tests.ui.helpers import WAIT_MS, connect, show_window
from wsinspector.app.context import AppContext
from wsinspector.core.events import ConnectionState
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui import palette
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_OPCODE, COL_SIZE
from wsinspector.ui.window_state import WindowState, app_settings, restore_geometry


class Restarts:
    """Opens the window over ``data_dir`` as the app does (its state from ``settings``), and closes it."""

    def __init__(self, qtbot: Any, data_dir: Path, settings_path: Path) -> None:
        self.qtbot = qtbot
        self.data_dir = data_dir
        self.path = settings_path
        self.contexts: list[AppContext] = []

    def settings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def open(self) -> MainWindow:
        context = AppContext(self.data_dir)
        self.contexts.append(context)
        window = MainWindow()
        settings = self.settings()
        restore_geometry(window, settings)
        show_window(self.qtbot, window)
        window.populate(context)
        self.qtbot.waitUntil(window.centralWidget().isVisible, timeout=WAIT_MS)  # the pages show in a turn
        window.window_state = WindowState(window, settings)
        window.window_state.restore()
        return window

    def close(self, window: MainWindow) -> None:
        window.close()
        context = self.contexts.pop()
        context.shutdown()


@pytest.fixture
def restarts(qtbot: Any, data_dir: Path, tmp_path: Path) -> Iterator[Restarts]:
    made = Restarts(qtbot, data_dir, tmp_path / "settings.ini")
    yield made
    for context in made.contexts:
        context.shutdown()


def test_the_window_comes_back_as_it_was_left(qtbot: Any, restarts: Restarts,
                                              websockets_server: Any) -> None:
    window = restarts.open()
    context = window.context
    url = str(websockets_server().url)
    alpha = context.connections.save(ConnectionProfile(name="Alpha", endpoint=Endpoint(url)))
    beta = context.connections.save(ConnectionProfile(name="Beta", endpoint=Endpoint(url + "beta")))
    window.on_connect_requested(alpha)  # the first tab, connected
    qtbot.waitUntil(lambda: window.inspector.session.is_open, timeout=WAIT_MS)
    window.connections.select(beta.id)
    window.new_tab()
    beta_page = window.inspector
    assert beta_page.profile == beta
    beta_page.composer.set_mode(PayloadMode.JSON)
    beta_page.composer.editor.setPlainText('{"draft": true}')
    window.resize(window.width(), 703)
    window.main_split.setSizes([260, 500])
    beta_page.split.setSizes([300, 200, 150])
    header = beta_page.timeline.horizontalHeader()
    header.resizeSection(COL_SIZE, 123)
    header.hideSection(COL_OPCODE)
    # the width of the connection list and the composer's height (the rest follows the window's size)
    splits = window.main_split.sizes()[0], beta_page.split.sizes()[-1]
    window.tabs.setCurrentWidget(window.sessions_view)
    restarts.close(window)

    window = restarts.open()
    assert window.height() == 703  # (the test screen is narrower than the window can be)
    assert window.tabs.currentWidget() is window.sessions_view
    tabs = window.connection_tabs
    assert [page.profile.name for page in tabs.pages() if page.profile] == ["Local echo", "Alpha", "Beta"]
    assert window.inspector.profile == beta  # the tab that was current
    # back disconnected: nothing opens a socket on start; Connect is one click away
    assert all(page.session.state is ConnectionState.CLOSED for page in tabs.pages())
    assert all(page.connect_button.text() == "Connect" for page in tabs.pages())
    page = window.inspector
    assert page.composer.editor.toPlainText() == '{"draft": true}'
    assert page.composer.current_mode() is PayloadMode.JSON
    assert tabs.pages()[1].composer.editor.toPlainText() == ""
    assert (window.main_split.sizes()[0], page.split.sizes()[-1]) == splits
    for each in tabs.pages():
        assert each.timeline.horizontalHeader().sectionSize(COL_SIZE) == 123
        assert each.timeline.isColumnHidden(COL_OPCODE)
    window.tabs.setCurrentWidget(tabs)
    connect(qtbot, window)  # one click connects the restored tab
    restarts.close(window)


def test_a_new_tab_takes_the_layout_of_the_current_one(qtbot: Any, restarts: Restarts) -> None:
    window = restarts.open()
    page = window.inspector
    page.timeline.horizontalHeader().resizeSection(COL_SIZE, 140)
    window.new_tab()
    assert window.inspector is not page
    assert window.inspector.timeline.horizontalHeader().sectionSize(COL_SIZE) == 140
    restarts.close(window)


GARBAGE = {
    "version": "many",
    "window/geometry": "not a geometry",
    "window/state": 12,
    "window/split": ["a", "b"],
    "window/page": "nowhere",
    "window/appearance": "purple",
    "inspector/split": "zz",
    "inspector/columns": 3.5,
}


def test_damaged_settings_are_ignored(qtbot: Any, restarts: Restarts) -> None:
    settings = restarts.settings()
    for key, value in GARBAGE.items():
        settings.setValue(key, value)
    settings.sync()
    window = restarts.open()
    key = window.window_state._data_key
    restarts.close(window)
    for tabs, drafts in (("{not json", "[1, 2]"), ('{"tabs": "x", "current": "y"}', '{"x": 1}'),
                         ('{"tabs": [1, {"profile": 7}, {"session": true}, {"profile": "gone"}], "current": 9}',
                          '{"gone": {"text": 5, "mode": "x"}}')):
        settings = restarts.settings()
        settings.setValue(f"data/{key}/tabs", tabs)
        settings.setValue(f"data/{key}/drafts", drafts)
        settings.sync()
        window = restarts.open()
        assert len(window.connection_tabs.pages()) == 1
        assert window.tabs.currentWidget() is window.connection_tabs
        assert window.keys.appearance == "system"
        restarts.close(window)


def test_a_file_that_is_not_settings_at_all(qtbot: Any, restarts: Restarts) -> None:
    restarts.path.write_bytes(b"\x00\xff[window\nthis is = = not ini\x00" * 50)
    window = restarts.open()
    assert len(window.connection_tabs.pages()) == 1
    restarts.close(window)


def test_the_app_keeps_its_settings_out_of_the_users_folder() -> None:
    path = Path(app_settings().fileName())
    assert not path.is_relative_to(Path.home() / ".config"), path
    assert path.name == "wsinspector.ini"


def test_the_appearance_is_remembered(qtbot: Any, restarts: Restarts) -> None:
    window = restarts.open()
    window.keys.appearance_actions["dark"].trigger()
    restarts.close(window)
    try:
        window = restarts.open()
        assert window.keys.appearance == "dark"
        assert window.keys.appearance_actions["dark"].isChecked()
        assert palette.is_dark()
        window.keys.appearance_actions["system"].trigger()
        restarts.close(window)
    finally:
        palette.watcher().set_appearance("system")
    assert not palette.is_dark()
