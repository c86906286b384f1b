"""The Handshake view of a connection's tab, against real servers: the request we sent and the answer as
tables, a refused upgrade's status and the server's own reason, Copy as curl without secrets, and a stored
session's recorded handshake."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableWidget

from tests.ui.helpers import WAIT_MS, click, close_connection, connect
from tests.ui.helpers_sessions import click_session, session_rows, sessions_button, show_tab
from wsinspector.core.handshake import HANDSHAKE_EVENT
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE, ConnectionProfile, Endpoint, Handshake, Protocol
from wsinspector.ui.main_window import MainWindow

ENGINES = [ENGINE_WIRE, ENGINE_QT]
TOKEN = "tok-7f3a9c2e51"


def _rows(table: QTableWidget) -> list[tuple[str, str]]:
    return [(table.item(row, 0).text(), table.item(row, 1).text()) for row in range(table.rowCount())]


def _select(window: MainWindow, url: str, engine: str, **handshake: Any) -> ConnectionProfile:
    profile = ConnectionProfile(name="Handshake peer", endpoint=Endpoint(url), handshake=Handshake(**handshake),
                                protocol=Protocol(engine=engine), variables=(("token", TOKEN),),
                                secret_variables=("token",))
    saved = window.context.connections.save(profile)
    window.connections.select(saved.id)
    return saved


def _refusing(connection: Any, request: Any) -> Any:
    if request.headers.get("Sec-WebSocket-Protocol") is None:
        return connection.respond(HTTPStatus.BAD_REQUEST, "missing subprotocol: offer chat.v2\n")
    return None


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tables_show_the_request_sent_and_the_answer(qtbot: Any, window: MainWindow, websockets_server: Any,
                                                         engine: str) -> None:
    peer = websockets_server(subprotocols=["chat"])
    _select(window, peer.url, engine, headers=(("X-Trace", "run-42"),), subprotocols=("chat",))
    connect(qtbot, window)
    page = window.inspector
    view = page.handshake_view
    page.lower_tabs.setCurrentWidget(view)
    assert "response headers" not in page.info.text()  # the run-on line is gone: the tables say it
    sent = dict(_rows(view.request_table))
    assert sent["X-Trace"] == "run-42"
    assert sent["Sec-WebSocket-Protocol"] == "chat"
    answer = dict(_rows(view.response_table))
    qtbot.waitUntil(lambda: peer.response_headers is not None, timeout=WAIT_MS)
    assert answer["Sec-WebSocket-Accept"] == peer.response_headers["Sec-WebSocket-Accept"]
    assert answer["Sec-WebSocket-Protocol"] == "chat"
    assert view.status_line.text() == "HTTP/1.1 101 Switching Protocols"
    assert view.request_line.text() == "GET / HTTP/1.1"
    if engine == ENGINE_WIRE:  # exactly what went out: the peer read the same key and agent
        assert sent["Sec-WebSocket-Key"] == peer.request_headers["Sec-WebSocket-Key"]
        assert sent["User-Agent"] == peer.request_headers["User-Agent"]
        assert view.note.isHidden()
    else:  # QWebSocket builds its own request: the view says what it adds
        assert "Sec-WebSocket-Key" not in sent
        assert view.note.isVisible() and "QWebSocket builds the request itself" in view.note.text()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_refused_upgrade_shows_the_status_and_the_servers_reason(qtbot: Any, window: MainWindow,
                                                                   websockets_server: Any, engine: str) -> None:
    peer = websockets_server(process_request=_refusing)
    _select(window, peer.url, engine)
    with qtbot.waitSignals([window.session.failed, window.session.session_saved], timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    page = window.inspector
    view = page.handshake_view
    assert page.lower_tabs.currentWidget() is view  # the server's own reason is shown at once
    assert view.status_line.text() == "HTTP/1.1 400 Bad Request"
    assert view.summary.text() == "The server refused the upgrade: HTTP/1.1 400 Bad Request"
    assert view.body.isVisible()
    assert view.body.toPlainText().startswith("missing subprotocol: offer chat.v2")
    assert dict(_rows(view.response_table))["Content-Type"].startswith("text/plain")
    for table in (view.request_table, view.response_table):  # the body does not squeeze the headers out of sight
        assert table.viewport().height() >= 4 * table.verticalHeader().defaultSectionSize()

    # the Sessions list says why it failed; Open shows it, with the handshake it kept
    show_tab(qtbot, window, "Sessions")
    (row,) = session_rows(window)
    assert row["Status"] == "failed" and "400" in row["Reason"], row["Reason"]
    record = window.sessions_view.model.record(0)
    assert record is not None
    click_session(qtbot, window, record.id)
    click(qtbot, sessions_button(window, "Open"))
    assert window.tabs.currentWidget() is window.connection_tabs  # Open switches to what it opened
    stored = window.connection_tabs.current_page
    assert stored.viewing is not None and stored.viewing.session_id == record.id
    assert stored.stored_only
    stored_view = stored.handshake_view
    assert stored_view.status_line.text() == "HTTP/1.1 400 Bad Request"
    assert stored_view.body.toPlainText().startswith("missing subprotocol")
    assert not stored_view.copy_curl_secrets.isVisibleTo(stored_view)  # a stored session kept no secret


def test_copy_as_curl_leaves_the_secrets_out_unless_asked(qtbot: Any, window: MainWindow, websockets_server: Any,
                                                          data_dir: Any) -> None:
    peer = websockets_server()
    _select(window, peer.url, ENGINE_WIRE, headers=(("Authorization", "Bearer {{token}}"),))
    connect(qtbot, window)
    view = window.inspector.handshake_view
    window.inspector.lower_tabs.setCurrentWidget(view)
    assert dict(_rows(view.request_table))["Authorization"] == "Bearer {{token}}"  # not on screen either
    qtbot.waitUntil(lambda: peer.request_headers is not None, timeout=WAIT_MS)
    assert peer.request_headers["Authorization"] == f"Bearer {TOKEN}"  # the server got the real one

    click(qtbot, view.copy_curl)
    copied = QGuiApplication.clipboard().text()
    assert "-H 'Authorization: Bearer {{token}}'" in copied and TOKEN not in copied
    assert copied.startswith("curl --include --no-buffer --http1.1")
    assert copied.endswith("\\\n  " + peer.url.replace("ws://", "http://"))
    click(qtbot, view.copy_curl_secrets)
    assert f"-H 'Authorization: Bearer {TOKEN}'" in QGuiApplication.clipboard().text()

    # the session keeps its handshake, without the secret
    session_id = window.session.session_id
    assert session_id is not None
    kept = [text for _seq, _ts, kind, text in window.context.store.events(session_id) if kind == HANDSHAKE_EVENT]
    assert len(kept) == 1 and "Bearer {{token}}" in kept[0] and TOKEN not in kept[0]


def test_the_frames_come_back_once_a_refused_connection_opens(qtbot: Any, window: MainWindow,
                                                              websockets_server: Any) -> None:
    peer = websockets_server(process_request=_refusing, subprotocols=["chat.v2"])
    saved = _select(window, peer.url, ENGINE_WIRE)
    page = window.inspector
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, page.connect_button)
    assert page.lower_tabs.currentWidget() is page.handshake_view
    # as the server asked: the subprotocol offered, the same tab connects
    window.context.connections.save(saved.with_changes(handshake=Handshake(subprotocols=("chat.v2",))))
    connect(qtbot, window)
    assert page.lower_tabs.currentWidget() is page.detail  # the refusal is over: no stale Handshake tab
    close_connection(qtbot, window)
