"""The composer speaks the tab's protocol: a connection in Socket.IO mode (python-socketio, a real server) shows
the protocol bar with the verbs' fields; an emit asking for an ack shows in the Protocol list acknowledged with
the server's reply; a bad JSON field says why in one line and sends nothing; the bar goes with the connection.
A GraphQL subscribe through the form against graphql-ws (node) lists the data under the subscription."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from tests.decoder_peers import SocketIoServer
from tests.decoders.test_real_peers import mosquitto, node_server  # noqa: F401
from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    click,
    close_connection,
    focus,
    replace_text,
    show_window,
    toggle_check_box,
)
from tests.ui.helpers_sessions import click_session, sessions_button, show_tab
from tests.ui.test_tests_view import run_test
from wsinspector.core.frames import Direction
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint, Handshake
from wsinspector.core.scenario.model import EventStep, VerbStep
from wsinspector.core.scenario.yaml_io import read_test
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.protocol_bar import ProtocolBar
from wsinspector.ui.protocol_list import REF, REPLY, STATE, TOOK, WHAT
from wsinspector.ui.shortcuts import shortcut_rows

LONG_WAIT_MS = 20_000


@pytest.fixture
def socketio_server(run: Callable[..., Any]) -> Iterator[SocketIoServer]:
    server = run(SocketIoServer().start())
    yield server
    run(server.stop())


def _connect_in_mode(qtbot: Any, window: MainWindow, profile: ConnectionProfile) -> ProtocolBar:
    saved = window.context.connections.save(profile)
    window.connections.select(saved.id)
    page = window.inspector
    with qtbot.waitSignal(window.session.protocol.started, timeout=LONG_WAIT_MS):
        click(qtbot, page.connect_button)
    bar = page.protocol.bar
    qtbot.waitUntil(bar.isVisible, timeout=WAIT_MS)
    return bar


def _field(bar: ProtocolBar, name: str) -> Any:
    assert bar.form is not None
    return bar.form.inputs[name]


def _sent(window: MainWindow) -> list[bytes]:
    log = window.session.log
    return [log.payload(seq) for seq in range(len(log)) if log.direction(seq) is Direction.OUT]


def test_a_socketio_emit_with_an_ack_through_the_verb_form_is_shown_acknowledged_with_the_reply(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(socketio_server.url),
                                decoding=Decoding(mode="socket.io"))
    bar = _connect_in_mode(qtbot, window, profile)
    page = window.inspector
    # the verbs are the protocol's; the raw editor waits behind the toggle
    assert bar.protocol == "socket.io" and bar.verb.currentData() == "emit"
    assert [bar.verb.itemData(i) for i in range(bar.verb.count())][:3] == ["emit", "connect", "disconnect"]
    assert not page.composer.isVisible()
    assert isinstance(_field(bar, "ack"), QCheckBox) and isinstance(_field(bar, "event"), QLineEdit)
    replace_text(qtbot, _field(bar, "event"), "ask")
    replace_text(qtbot, _field(bar, "args"), "[21]")
    toggle_check_box(qtbot, _field(bar, "ack"))
    assert _field(bar, "ack").isChecked()
    assert page.lower_tabs.isTabVisible(page.protocol.tab)
    # the namespace connect the mode does is listed
    qtbot.waitUntil(lambda: "connected" in [row[2] for row in page.protocol.list.rows()], timeout=LONG_WAIT_MS)
    # Ctrl+Return in the protocol bar sends the verb
    with qtbot.waitSignal(window.session.protocol.acknowledged, timeout=LONG_WAIT_MS):
        qtbot.keyClick(_field(bar, "args"), Qt.Key.Key_Return, CTRL)
    assert socketio_server.asked == [21]
    rows = page.protocol.list.rows()
    assert [row[2] for row in rows[:3]] == ["started", "open", "connected"] and len(rows) == 4
    assert rows[0][0] == "speaking Socket.IO"
    what, ref, state, took, reply = rows[3]
    assert (what, ref, state) == ("emit ask [21] ack /", "0", "acknowledged")
    assert reply == '[{"double":42},{"$bytes":"fffe"}]'
    assert took.endswith(" ms")
    assert bar.error.text() == ""
    # the window's key list knows the key
    assert ("Ctrl+Return", "Send the protocol verb", "Protocol bar") in shortcut_rows(window)
    # the raw editor is there too
    click(qtbot, bar.raw)
    assert page.composer.isVisible() and not bar.stack.isVisible()
    click(qtbot, bar.raw)
    assert not page.composer.isVisible()


def test_a_bad_json_argument_says_why_in_one_line_and_sends_nothing(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(socketio_server.url),
                                decoding=Decoding(mode="socket.io"))
    bar = _connect_in_mode(qtbot, window, profile)
    page = window.inspector
    qtbot.waitUntil(lambda: b"40" in _sent(window), timeout=WAIT_MS)
    replace_text(qtbot, _field(bar, "event"), "ask")
    height = bar.height()
    replace_text(qtbot, _field(bar, "args"), "[21,")
    # told while typing, in one line, and the bar keeps its height
    assert bar.error.text() == "args is not JSON: Expecting value at character 5"
    assert bar.height() == height
    sent = len(_sent(window))
    click(qtbot, bar.send_button)
    assert bar.error.text() == "args is not JSON: Expecting value at character 5"
    assert len(_sent(window)) == sent and socketio_server.asked == []
    assert [row for row in page.protocol.list.rows() if row[0].startswith("emit")] == []
    # a missing required field is told on Send
    replace_text(qtbot, _field(bar, "args"), "[1]")
    assert bar.error.text() == ""
    replace_text(qtbot, _field(bar, "event"), "")
    click(qtbot, bar.send_button)
    assert bar.error.text() == "emit needs event" and len(_sent(window)) == sent
    # what the protocol itself refuses is told the same way: Connect a namespace with an auth that is no object
    bar.choose("connect")
    replace_text(qtbot, _field(bar, "auth"), "[1]")
    assert bar.error.text() == ""
    click(qtbot, bar.send_button)
    assert bar.error.text() == "connect: auth must be a JSON object" and len(_sent(window)) == sent
    assert bar.height() == height


def test_the_protocol_bar_goes_when_the_connection_ends(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="sio", endpoint=Endpoint(socketio_server.url),
                                decoding=Decoding(mode="socket.io"))
    bar = _connect_in_mode(qtbot, window, profile)
    page = window.inspector
    with qtbot.waitSignal(window.session.protocol.stopped, timeout=WAIT_MS):
        close_connection(qtbot, window)
    assert not bar.isVisible()
    assert page.composer.isVisible()
    # the recorded session, opened in a tab of its own, is read-only: no verbs, no composer
    show_tab(qtbot, window, "Sessions")
    record = window.sessions_view.model.record(0)
    assert record is not None
    click_session(qtbot, window, record.id)
    click(qtbot, sessions_button(window, "Open"))
    stored = window.connection_tabs.current_page
    assert stored is not page and stored.stored_only and stored.isVisible()
    assert not stored.protocol.box.isVisible() and not stored.protocol.bar.isVisible()


def test_a_connection_without_a_protocol_mode_has_no_protocol_bar(
    qtbot: Any, window: MainWindow, socketio_server: SocketIoServer
) -> None:
    show_window(qtbot, window)
    saved = window.context.connections.save(ConnectionProfile(name="plain", endpoint=Endpoint(socketio_server.url)))
    window.connections.select(saved.id)
    page = window.inspector
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        click(qtbot, page.connect_button)
    qtbot.waitUntil(lambda: window.session.log.__len__() >= 1, timeout=WAIT_MS)
    assert not page.protocol.bar.isVisible() and page.composer.isVisible()
    assert not page.lower_tabs.isTabVisible(page.protocol.tab)


def test_a_graphql_subscribe_through_the_form_lists_its_data_under_it(
    qtbot: Any, window: MainWindow, node_server: Callable[[str], int]  # noqa: F811
) -> None:
    show_window(qtbot, window)
    url = f"ws://127.0.0.1:{node_server('graphql_server.mjs')}/graphql"
    profile = ConnectionProfile(name="gql", endpoint=Endpoint(url),
                                handshake=Handshake(subprotocols=("graphql-transport-ws",)),
                                decoding=Decoding(mode="graphql"))
    bar = _connect_in_mode(qtbot, window, profile)
    page = window.inspector
    assert bar.verb.currentData() == "subscribe"
    listed = page.protocol.list
    qtbot.waitUntil(lambda: [row[2] for row in listed.rows()] == ["started", "connected"], timeout=LONG_WAIT_MS)
    replace_text(qtbot, _field(bar, "query"), "subscription { count(to: 2) }")
    focus(qtbot, _field(bar, "operationName"))
    click(qtbot, bar.send_button)
    qtbot.waitUntil(lambda: [row[2] for row in listed.rows()][-1:] == ["complete (2)"], timeout=LONG_WAIT_MS)
    tree = listed.tree
    row = tree.topLevelItem(tree.topLevelItemCount() - 1)
    assert row.text(WHAT) == "subscribe subscription { count(to: 2) }" and row.text(REF)
    assert [row.child(i).text(REPLY) for i in range(row.childCount())] == ['{"data":{"count":1}}',
                                                                          '{"data":{"count":2}}']
    assert row.text(TOOK).endswith(" ms")
    # the verb chooser offers complete too
    assert isinstance(bar.verb, QComboBox) and bar.verb.findData("complete") >= 0


def test_an_mqtt_publish_through_the_form_is_acknowledged_and_its_echo_is_shown_under_it_and_saved_as_a_test(
    qtbot: Any, window: MainWindow, mosquitto: int, tmp_path: Path  # noqa: F811
) -> None:
    show_window(qtbot, window)
    profile = ConnectionProfile(name="mqtt", endpoint=Endpoint(f"ws://127.0.0.1:{mosquitto}"),
                                decoding=Decoding(mode="mqtt"))
    bar = _connect_in_mode(qtbot, window, profile)
    listed = window.inspector.protocol.list
    qtbot.waitUntil(lambda: "connected" in [row[2] for row in listed.rows()], timeout=LONG_WAIT_MS)
    form = bar.choose("subscribe")
    assert isinstance(form.inputs["qos"], QComboBox)
    replace_text(qtbot, _field(bar, "topic"), "sensors/#")
    form.inputs["qos"].setCurrentText("1")
    with qtbot.waitSignal(window.session.protocol.acknowledged, timeout=LONG_WAIT_MS):
        click(qtbot, bar.send_button)
    form = bar.choose("publish")
    replace_text(qtbot, _field(bar, "topic"), "sensors/1")
    replace_text(qtbot, _field(bar, "payload"), "21.5")
    form.inputs["qos"].setCurrentText("1")
    assert isinstance(form.inputs["retain"], QCheckBox)
    with qtbot.waitSignal(window.session.protocol.data_received, timeout=LONG_WAIT_MS):
        click(qtbot, bar.send_button)
    # the same publish again at QoS 0: its echo goes under it, the first one's under the first
    form.inputs["qos"].setCurrentText("0")
    click(qtbot, bar.send_button)
    published = lambda: [row for row in listed.rows() if row[0].startswith("publish")]  # noqa: E731
    qtbot.waitUntil(lambda: [row[2] for row in published()] == ["acknowledged", "echoed"], timeout=LONG_WAIT_MS)
    rows = listed.rows()
    (subscribed,) = [row for row in rows if row[0].startswith("subscribe")]
    assert subscribed[0] == "subscribe sensors/# 1" and subscribed[2] == "acknowledged"
    assert [row for row in rows if row[2] == "data"] == []  # no echo is a row of its own
    assert [row[0] for row in published()] == ["publish sensors/1 21.5 1", "publish sensors/1 21.5 0"]
    # each publish shows what came back, its PUBACK's empty codes or not
    assert [row[4] for row in published()] == ['"21.5"', '"21.5"'] and published()[1][3].endswith(" ms")
    tree = listed.tree
    rows_of_publishes = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                         if tree.topLevelItem(i).text(WHAT).startswith("publish")]
    for row, qos in zip(rows_of_publishes, ("qos1", "qos0"), strict=True):
        assert row.childCount() == 1 and row.isExpanded()
        echo = row.child(0)
        assert echo.text(WHAT).startswith(f"PUBLISH sensors/1 {qos}") and echo.text(REPLY) == '"21.5"'
        assert echo.text(STATE) == "echo" and echo.text(TOOK).endswith(" ms") and echo.text(REF) == ""
    # saved as a test, the session speaks MQTT again and passes against the same broker
    close_connection(qtbot, window)  # (its client id is the test's)
    saved = tmp_path / "sensors.wstest.yaml"
    assert window.save_session_as_test(path=saved)
    test = read_test(saved)
    assert test.protocol == "mqtt"
    assert [step.verb for step in test.steps if isinstance(step, VerbStep)] == ["subscribe", "publish", "publish"]
    assert [(step.value, dict(step.filters)) for step in test.steps if isinstance(step, EventStep)
            and step.kind == "data"] == [("21.5", {"topic": "sensors/1", "qos": "1"}),
                                         ("21.5", {"topic": "sensors/1", "qos": "0"})]
    result = run_test(qtbot, window.tests_view)
    assert result.ok, result
