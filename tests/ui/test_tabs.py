"""Several connections at once, a tab each: every tab's header and the window title describe its own socket, and
what is sent in a tab reaches its own server. Real peers on 127.0.0.1 (QWebSocketServer echo servers that record
what they got)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar

from tests.peers import QtPeer
from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    all_rows,
    click,
    close_connection,
    connect,
    focus,
    replace_text,
    send_and_wait_for_echo,
)
from tests.ui.helpers_connections import profile_index
from tests.ui.helpers_sessions import echo_round, open_stored
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.core.store import SessionStatus
from wsinspector.ui.inspector import InspectorPage
from wsinspector.ui.main_window import MainWindow


def _saved(context: AppContext, name: str, url: str) -> ConnectionProfile:
    return context.connections.save(ConnectionProfile(name=name, endpoint=Endpoint(url)))


def _tab_texts(window: MainWindow) -> list[str]:
    tabs = window.connection_tabs
    return [tabs.tabText(index) for index in range(tabs.count())]


def _open_from_list(qtbot: Any, window: MainWindow, profile: ConnectionProfile) -> InspectorPage:
    """Double-click the connection in the list: it opens (in a tab) and connects."""
    tree = window.connections.tree
    pos = tree.visualRect(profile_index(window.connections, profile.name)).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    def opened() -> bool:
        page = window.connection_tabs.page_for_profile(profile.id)
        return page is not None and page.session.is_open

    qtbot.waitUntil(opened, timeout=WAIT_MS)
    page = window.connection_tabs.page_for_profile(profile.id)
    assert page is window.inspector
    return page


def _describes(window: MainWindow, page: InspectorPage, profile: ConnectionProfile) -> None:
    """The tab's header, its label and (when current) the window title are those of ``profile``'s socket."""
    assert page.profile is not None and page.profile.id == profile.id
    assert page.session.profile is not None and page.session.profile.url == profile.url == page.url.text()
    assert profile.name in page.profile_name.text()
    assert page.state_label.text() == "Open"
    assert window.connection_tabs.tabText(window.connection_tabs.indexOf(page)) == profile.name
    if page is window.inspector:
        assert window.windowTitle() == f"{profile.name} — Open — wsinspector"


def _close_button(window: MainWindow, page: InspectorPage) -> Any:
    bar = window.connection_tabs.tabBar()
    index = window.connection_tabs.indexOf(page)
    return bar.tabButton(index, QTabBar.ButtonPosition.RightSide) or bar.tabButton(
        index, QTabBar.ButtonPosition.LeftSide)


def test_two_tabs_two_servers_each_send_reaches_its_own(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha, beta = qt_peer(), qt_peer()
    a = _saved(context, "Alpha", alpha.listen())
    b = _saved(context, "Beta", beta.listen())
    page_a = _open_from_list(qtbot, window, a)
    assert window.connection_tabs.count() == 1  # the first tab was free: it took Alpha
    _describes(window, page_a, a)

    # Beta opens in a tab of its own; selecting it first did not relabel Alpha's tab
    page_b = _open_from_list(qtbot, window, b)
    assert page_b is not page_a and window.connection_tabs.count() == 2
    assert _tab_texts(window) == ["Alpha", "Beta"]
    _describes(window, page_b, b)
    _describes(window, page_a, a)
    assert page_a.session.is_open and page_b.session.is_open  # both connected at once

    send_and_wait_for_echo(qtbot, window, "to beta")
    assert beta.received == ["to beta"] and alpha.received == []

    # Ctrl+PgUp: Alpha's tab, its title; a send there reaches Alpha only
    focus(qtbot, window.inspector.composer.editor)
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_PageUp, CTRL)
    assert window.inspector is page_a
    _describes(window, page_a, a)
    send_and_wait_for_echo(qtbot, window, "to alpha")
    assert alpha.received == ["to alpha"] and beta.received == ["to beta"]
    assert [row["preview"] for row in all_rows(window)] == ["to alpha", "to alpha"]  # this tab's timeline

    # Ctrl+Tab: back to Beta; opening Alpha from the list again focuses its tab, no third one
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_Tab, CTRL)
    assert window.inspector is page_b
    assert window.connections.current_profile() == b  # the list follows the current tab
    assert window.windowTitle() == "Beta — Open — wsinspector"
    assert _open_from_list(qtbot, window, a) is page_a and window.connection_tabs.count() == 2
    assert window.windowTitle() == "Alpha — Open — wsinspector"

    # selecting a connection that has a tab brings its tab forward
    tree = window.connections.tree
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualRect(profile_index(window.connections, b.name)).center())
    assert window.inspector is page_b and window.windowTitle() == "Beta — Open — wsinspector"
    _describes(window, page_a, a)

    # what happens to a tab in the background is told with its name
    with qtbot.waitSignal(page_a.session.closed, timeout=WAIT_MS):
        alpha.close_all(1001, "going away")
    assert window.banner.text.startswith("Alpha: ") and "going away" in window.banner.text
    assert window.windowTitle() == "Beta — Open — wsinspector" and page_b.session.is_open
    assert window.connection_tabs.tabToolTip(0).startswith("Closed")


def test_selecting_another_connection_never_relabels_a_connected_tab(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha = qt_peer()
    a = _saved(context, "Alpha", alpha.listen())
    elsewhere = _saved(context, "Elsewhere", "ws://127.0.0.1:9/")
    page = _open_from_list(qtbot, window, a)
    tree = window.connections.tree
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualRect(profile_index(window.connections, elsewhere.name)).center())
    assert window.connections.current_profile() == elsewhere
    assert window.inspector is page
    _describes(window, page, a)  # the header, URL and title still say Alpha, where the socket is
    assert "“Elsewhere” selected" in window.statusBar().currentMessage()
    send_and_wait_for_echo(qtbot, window, "still alpha")
    assert alpha.received == ["still alpha"]
    # once disconnected, the tab is free again: selecting shows the selected connection
    close_connection(qtbot, window)
    for profile in (a, elsewhere):
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                         pos=tree.visualRect(profile_index(window.connections, profile.name)).center())
    assert window.inspector.url.text() == "ws://127.0.0.1:9/"
    assert window.windowTitle() == "Elsewhere — Closed — wsinspector"


def test_closing_a_tab_disconnects_it_and_saves_its_session(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha, beta = qt_peer(), qt_peer()
    a = _saved(context, "Alpha", alpha.listen())
    b = _saved(context, "Beta", beta.listen())
    page_a = _open_from_list(qtbot, window, a)
    page_b = _open_from_list(qtbot, window, b)
    send_and_wait_for_echo(qtbot, window, "kept")
    session_id = page_b.session.session_id
    assert session_id is not None
    with qtbot.waitSignal(page_b.session.session_saved, timeout=WAIT_MS):
        click(qtbot, _close_button(window, page_b))
    qtbot.waitUntil(lambda: len(beta.disconnects) == 1, timeout=WAIT_MS)
    assert window.connection_tabs.pages() == [page_a] and window.inspector is page_a
    assert page_a.session.is_open  # the other tab's connection goes on
    assert window.windowTitle() == "Alpha — Open — wsinspector"
    record = context.sessions.get(session_id)
    assert record is not None and record.url == b.url and record.status != SessionStatus.LIVE
    assert context.store.stored_frame_count(session_id) == 3  # a message, its echo, and 1001 "going away"
    assert (record.close_code, record.close_reason) == (1001, "tab closed in wsinspector")

    # Ctrl+W closes the last one too: a new, unconnected tab takes its place
    focus(qtbot, window.inspector.composer.editor)
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_W, CTRL)
    qtbot.waitUntil(lambda: len(alpha.disconnects) == 1, timeout=WAIT_MS)
    assert len(window.connection_tabs.pages()) == 1 and window.inspector is not page_a
    assert window.inspector.state_label.text() == "Closed"
    assert window.windowTitle() == "Alpha — Closed — wsinspector"


def test_a_stored_session_opens_in_its_own_read_only_tab_beside_a_live_one(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    stored_id = echo_round(qtbot, window, ["recorded"])
    connect(qtbot, window)
    live = window.inspector
    send_and_wait_for_echo(qtbot, window, "live")
    open_stored(qtbot, window, stored_id)
    stored = window.inspector
    assert stored is not live and len(window.connection_tabs.pages()) == 2
    assert _tab_texts(window) == ["Local echo", "Local echo (stored)"]
    assert window.windowTitle() == "Local echo — stored, read-only — wsinspector"
    assert [row["preview"] for row in all_rows(window)][:2] == ["recorded", "recorded"]
    assert not stored.composer.isVisible() and not stored.connect_button.isVisible()
    assert live.viewing is None and live.session.is_open  # the live tab is untouched
    # opening it again focuses its tab
    window.connection_tabs.setCurrentWidget(live)
    open_stored(qtbot, window, stored_id)
    assert window.inspector is stored and len(window.connection_tabs.pages()) == 2
    click(qtbot, stored.back_to_live)  # closes the stored tab, back to the live one
    assert window.connection_tabs.pages() == [live] and window.inspector is live
    assert window.windowTitle() == "Local echo — Open — wsinspector"
    send_and_wait_for_echo(qtbot, window, "still live")


def test_an_edited_url_is_unsaved_until_save(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha, beta = qt_peer(), qt_peer()
    a = _saved(context, "Alpha", alpha.listen())
    window.connections.select(a.id)
    page = window.inspector
    assert not page.url_modified.isVisible()
    replace_text(qtbot, page.url, beta.listen())
    assert page.url_modified.isVisible() and page.save_url_button.isVisible()
    assert page.url.font().italic()
    assert window.connection_tabs.tabText(0) == "Alpha ●"
    saved = context.connections.get(a.id)
    assert saved is not None and saved.url == a.url  # typing saved nothing

    # connecting uses the edited URL: the message reaches Beta
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "edited")
    assert beta.received == ["edited"] and alpha.received == []
    close_connection(qtbot, window)
    saved = context.connections.get(a.id)
    assert saved is not None and saved.url == a.url and page.url_modified.isVisible()

    # Ctrl+S in the URL field saves it into the connection
    focus(qtbot, page.url)
    qtbot.keyClick(page.url, Qt.Key.Key_S, CTRL)
    saved = context.connections.get(a.id)
    assert saved is not None and saved.url == page.url.text() != a.url
    assert not page.url_modified.isVisible() and window.connection_tabs.tabText(0) == "Alpha"

    # Revert goes back to the saved URL
    replace_text(qtbot, page.url, "ws://127.0.0.1:9/nowhere")
    assert page.url_modified.isVisible()
    click(qtbot, page.revert_url_button)
    assert page.url.text() == saved.url and not page.url_modified.isVisible()


def test_the_built_in_connection_keeps_its_url_on_save(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    page = window.inspector
    assert page.profile is not None and page.profile.builtin
    replace_text(qtbot, page.url, "ws://127.0.0.1:9/")
    click(qtbot, page.save_url_button)
    assert window.banner.level == "warning" and "keeps its URL" in window.banner.text
    assert context.connections.get(page.profile.id).url == context.echo_url  # type: ignore[union-attr]
    assert page.url_modified.isVisible()


def _ping(qtbot: Any, window: MainWindow, times: int) -> None:
    """Click Ping in the current tab ``times`` times, each answered (an RTT measured) before the next."""
    session = window.inspector.session
    for _ in range(times):
        before = len(session.log.rtt_samples)
        click(qtbot, window.inspector.composer.ping_button)
        qtbot.waitUntil(lambda before=before: len(session.log.rtt_samples) == before + 1, timeout=WAIT_MS)
    session.flush()


def test_the_health_page_follows_the_current_tab(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha, beta = qt_peer(), qt_peer()
    page_a = _open_from_list(qtbot, window, _saved(context, "Alpha", alpha.listen()))
    _ping(qtbot, window, 3)
    page_b = _open_from_list(qtbot, window, _saved(context, "Beta", beta.listen()))
    _ping(qtbot, window, 1)
    window.tabs.setCurrentWidget(window.graph)
    qtbot.waitUntil(lambda: window.graph.loaded, timeout=WAIT_MS)
    graph: Any = window.graph.content()
    assert graph.sample_count == 1  # Beta's tab is current: its one RTT
    window.connection_tabs.setCurrentWidget(page_a)
    assert graph.sample_count == 3
    # Beta's connection goes on measuring in the background: Alpha's graph does not take its RTTs
    before = len(page_b.session.log.rtt_samples)
    page_b.session.request_ping(b"background")
    qtbot.waitUntil(lambda: len(page_b.session.log.rtt_samples) == before + 1, timeout=WAIT_MS)
    page_b.session.flush()
    assert graph.sample_count == 3
    window.connection_tabs.setCurrentWidget(page_b)
    assert graph.sample_count == 2


def test_tabs_open_move_and_keep_their_own_titles(
        qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]) -> None:
    alpha = qt_peer()
    a = _saved(context, "Alpha", alpha.listen())
    page_a = _open_from_list(qtbot, window, a)
    # Ctrl+T: a new tab for the connection selected on the left, not connected
    window.connections.select(next(p for p in context.connections.profiles if p.builtin).id)
    focus(qtbot, window.inspector.composer.editor)
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_T, CTRL)
    fresh = window.inspector
    assert fresh is not page_a and _tab_texts(window) == ["Alpha", "Local echo"]
    assert window.windowTitle() == "Local echo — Closed — wsinspector" and page_a.session.is_open
    # moved: the order changes, each tab keeps its page and label, the title follows the current one
    window.connection_tabs.tabBar().moveTab(1, 0)
    assert window.connection_tabs.pages() == [fresh, page_a] and _tab_texts(window) == ["Local echo", "Alpha"]
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_PageDown, CTRL)
    assert window.inspector is page_a and window.windowTitle() == "Alpha — Open — wsinspector"
