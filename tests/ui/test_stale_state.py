"""Nothing on screen outlives what it describes: rates fall to zero when the link closes, a connection's
error leaves the banner once it reconnects, the previous session's connection line goes with it."""

from __future__ import annotations

from typing import Any

from tests.peers import sends_then_drops, server_frame
from tests.ui.helpers import WAIT_MS, click, close_connection, connect, send_and_wait_for_echo
from tests.ui.helpers_sessions import select_local_echo, select_peer, show_tab
from wsinspector.core.profiles import Health
from wsinspector.core.rates import Rates
from wsinspector.ui.main_window import MainWindow


def test_rates_fall_to_zero_when_the_link_closes(qtbot: Any, window: MainWindow) -> None:
    select_local_echo(window)
    connect(qtbot, window)
    page = window.inspector
    show_tab(qtbot, window, "Health")
    show_tab(qtbot, window, "Inspector")
    with qtbot.waitSignal(window.session.rates_changed, timeout=WAIT_MS,
                          check_params_cb=lambda rates, _t: rates.frames_in > 0):
        for text in ("one", "two", "three"):
            send_and_wait_for_echo(qtbot, window, text)
    assert not page.rates.text().startswith("↓ 0 fr/s")
    with qtbot.waitSignal(window.session.rates_changed, timeout=WAIT_MS,
                          check_params_cb=lambda rates, _t: rates == Rates()):
        close_connection(qtbot, window)
    assert page.rates.text() == "↓ 0 fr/s 0 B/s   ↑ 0 fr/s 0 B/s"
    graph = window.graph.content()
    graph.redraw()
    _, frames_in = graph.frames_in_curve.getData()
    assert frames_in[-1] == 0.0  # the Health page's rate line ends at zero too


def test_the_banner_is_cleared_once_the_connection_is_back(qtbot: Any, window: MainWindow, hostile: Any) -> None:
    url = hostile(sends_then_drops(server_frame(0x1, b"hello")))
    profile = select_peer(window, url, "Flaky")
    window.context.connections.save(profile.with_changes(
        health=Health(reconnect=True, reconnect_base_s=0.05, reconnect_max_s=0.1)))
    window.connections.select(profile.id)
    said_after_reopening: list[str] = []
    warned: list[str] = []
    window.session.reconnecting.connect(lambda *_: warned.append(window.banner.text))
    window.session.opened.connect(lambda _info: said_after_reopening.append(window.banner.text))
    click(qtbot, window.inspector.connect_button)
    qtbot.waitUntil(lambda: len(said_after_reopening) >= 3, timeout=WAIT_MS)
    assert warned and warned[0].startswith("Connection lost: reconnecting in")
    assert said_after_reopening == [""] * len(said_after_reopening)  # each reopening took the warning back
    window.inspector.toggle_connection()  # stop reconnecting
    qtbot.waitUntil(lambda: not window.session.is_reconnecting and window.inspector.state_label.text() == "Closed",
                    timeout=WAIT_MS)

