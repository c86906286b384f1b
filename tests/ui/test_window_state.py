"""The window remembers across restarts (Qt's settings in a file of the test's own): its size, the splitters, the
timeline's columns, the open tabs (back disconnected), the current tab and page, and each connection's composer
draft. A damaged or foreign settings file is ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ui.helpers import WAIT_MS, connect
from tests.ui.helpers_restarts import Restarts
from wsinspector.core.events import ConnectionState
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui import palette
from wsinspector.ui.timeline import COL_OPCODE, COL_SIZE
from wsinspector.ui.window_state import app_settings


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
    # a window that fits a 768-pixel-high screen, left at a height above its least
    assert window.minimumSizeHint().height() <= 640
    window.resize(window.width(), 680)
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
    assert window.height() == 680  # (the test screen is narrower than the window can be)
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


def test_the_local_echo_tab_follows_the_echo_server_to_its_new_port(qtbot: Any, restarts: Restarts) -> None:
    """The built-in echo server listens on a new port at each start; the Local echo tab put back must point
    at it, or its one click on Connect meets nothing."""
    window = restarts.open()
    first_url = window.context.echo_url
    connect(qtbot, window)
    assert window.inspector.url.text() == first_url
    restarts.close(window)

    window = restarts.open()
    assert window.context.echo_url != first_url
    [page] = window.connection_tabs.pages()
    assert page.url.text() == window.context.echo_url
    assert not page.url_modified_now
    connect(qtbot, window)
    restarts.close(window)


def test_a_local_echo_tab_that_is_not_the_first_follows_the_echo_server_too(qtbot: Any, restarts: Restarts,
                                                                            websockets_server: Any) -> None:
    window = restarts.open()
    echo = window.inspector.profile
    feed = window.context.connections.save(ConnectionProfile(name="Feed", endpoint=Endpoint(
        str(websockets_server().url))))
    window.connections.select(feed.id)  # the first tab, idle, shows it
    assert window.inspector.profile == feed
    window.connection_tabs.open_live(echo)  # Local echo in a tab of its own, the current one
    restarts.close(window)

    window = restarts.open()
    pages = window.connection_tabs.pages()
    assert [page.profile.name for page in pages if page.profile] == ["Feed", "Local echo"]
    assert window.inspector is pages[1]
    assert window.connections.current_profile().name == "Local echo", "the list follows the current tab"
    assert pages[1].url.text() == window.context.echo_url
    connect(qtbot, window)
    restarts.close(window)


def test_each_tab_comes_back_with_its_own_url_and_draft(qtbot: Any, restarts: Restarts,
                                                        websockets_server: Any) -> None:
    """Tabs of one saved connection, each with a URL typed in its bar and a message begun, come back as
    they were left: as many tabs, each with its own URL and its own draft, and the status says how many."""
    window = restarts.open()
    url = str(websockets_server().url)
    feed = window.context.connections.save(ConnectionProfile(name="Feed", endpoint=Endpoint(url)))
    typed = [url, url + "room/2", url + "room/3", url + "room/4?token=s3cret-value"]
    for index, each in enumerate(typed):
        window.connection_tabs.open_live(feed)
        window.inspector.url.setText(each)
        window.inspector.composer.editor.setPlainText(f"draft {index}")
    restarts.close(window)

    window = restarts.open()
    pages = window.connection_tabs.pages()
    assert [page.profile.name for page in pages if page.profile] == ["Local echo", "Feed", "Feed", "Feed", "Feed"]
    # a URL with a credential in it is not written to the settings file: that tab has its connection's URL
    assert [page.url.text() for page in pages[1:]] == [*typed[:3], url]
    assert [page.url_modified_now for page in pages[1:]] == [False, True, True, False]
    assert [page.composer.editor.toPlainText() for page in pages] == ["", "draft 0", "draft 1", "draft 2",
                                                                      "draft 3"]
    assert window.statusBar().currentMessage().startswith("5 tabs reopened, not connected")
    assert "s3cret-value" not in restarts.path.read_text()
    restarts.close(window)
