"""Connection problems are told in the banner, and the window stays usable afterwards."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.peers import Behaviour, closes_with, http_status, never_answers
from tests.ui.helpers import (
    WAIT_MS,
    click,
    close_connection,
    connect,
    replace_text,
    send_and_wait_for_echo,
    wait_rows,
)
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import BUILTIN_LOCAL_ECHO, ConnectionProfile, Endpoint, Handshake
from wsinspector.ui.main_window import MainWindow


def _select_profile(qtbot: Any, window: MainWindow, profile: ConnectionProfile) -> None:
    window.connections.select(profile.id)
    current = window.connections.current_profile()
    assert current is not None and current.id == profile.id
    assert window.inspector.url.text() == profile.url


def _local_echo(context: AppContext) -> ConnectionProfile:
    return next(p for p in context.connections.profiles if p.builtin == BUILTIN_LOCAL_ECHO)


def _fail_to_connect(qtbot: Any, window: MainWindow) -> str:
    """Click Connect, wait for the attempt to fail, return the banner text."""
    with qtbot.waitSignal(window.session.failed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert window.banner.level == "error"
    assert window.inspector.connect_button.text() == "Connect"
    assert not window.inspector.url.isReadOnly()
    return window.banner.text


def _echo_still_works(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _select_profile(qtbot, window, _local_echo(context))
    connect(qtbot, window)
    assert window.banner.text == ""  # a new attempt clears the old error
    send_and_wait_for_echo(qtbot, window, "still works")
    close_connection(qtbot, window)


@pytest.fixture
def bound_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 with nothing listening: a connection there is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def test_malformed_url_suggests_ws_and_connects_nothing(qtbot: Any, window: MainWindow, context: AppContext) -> None:
    echo_url = window.inspector.url.text()
    replace_text(qtbot, window.inspector.url, "http://x")
    click(qtbot, window.inspector.connect_button)
    assert window.banner.level == "error"
    assert window.banner.text == "WebSocket URLs start with ws:// or wss:// (did you mean ws://?)"
    assert window.inspector.state_label.text() == "Closed"
    assert window.session.profile is None  # no session was started
    assert window.inspector.model.rowCount() == 0
    assert _local_echo(context).url == echo_url  # the saved connection was not changed
    # Return in the URL field is the same as Connect
    qtbot.keyClick(window.inspector.url, Qt.Key.Key_Return)
    assert "did you mean ws://?" in window.banner.text
    assert window.session.profile is None
    # the user puts the right URL back and connects
    replace_text(qtbot, window.inspector.url, echo_url)
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "fixed it")
    close_connection(qtbot, window)


def test_a_connection_that_cannot_start_shows_none_of_the_previous_ones_frames(
        qtbot: Any, window: MainWindow, context: AppContext) -> None:
    _select_profile(qtbot, window, _local_echo(context))
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "from the echo")
    close_connection(qtbot, window)
    unresolved = context.connections.save(ConnectionProfile(name="Unresolved", endpoint=Endpoint("ws://{{nowhere}}/")))
    _select_profile(qtbot, window, unresolved)
    text = _fail_to_connect(qtbot, window)
    assert text.startswith("Unknown variable: {{nowhere}} in the URL"), text
    assert window.inspector.model.rowCount() == 0  # nothing was connected for this one
    assert window.inspector.rates.text() == ""  # nor are the echo's rates shown under its name
    assert window.session.profile is not None and window.session.profile.id == unresolved.id
    assert window.session.session_id is None  # and nothing recorded
    _echo_still_works(qtbot, window, context)


def test_refused_port(qtbot: Any, window: MainWindow, context: AppContext, bound_port: int) -> None:
    profile = context.connections.save(ConnectionProfile(name="Nothing there", endpoint=Endpoint(f"ws://127.0.0.1:{bound_port}/")))
    _select_profile(qtbot, window, profile)
    text = _fail_to_connect(qtbot, window)
    assert text == f"Connection refused by 127.0.0.1:{bound_port}: nothing is listening on that port"
    assert window.inspector.model.rowCount() == 0
    _echo_still_works(qtbot, window, context)


def test_http_403_is_named(
    qtbot: Any, window: MainWindow, context: AppContext, hostile: Callable[[Behaviour], str]
) -> None:
    url = hostile(http_status(403, "Forbidden"))
    profile = context.connections.save(ConnectionProfile(name="Forbidden", endpoint=Endpoint(url)))
    _select_profile(qtbot, window, profile)
    text = _fail_to_connect(qtbot, window)
    assert "403" in text, text
    assert text == "Handshake rejected: the server answered HTTP 403 Forbidden instead of 101 Switching Protocols"
    _echo_still_works(qtbot, window, context)


def test_handshake_timeout(
    qtbot: Any, window: MainWindow, context: AppContext, hostile: Callable[[Behaviour], str]
) -> None:
    url = hostile(never_answers)
    profile = context.connections.save(ConnectionProfile(name="Silent", endpoint=Endpoint(url),
                                                         handshake=Handshake(timeout_s=0.5)))
    _select_profile(qtbot, window, profile)
    text = _fail_to_connect(qtbot, window)
    port = url.rsplit(":", 1)[1].rstrip("/")
    assert text == f"Handshake timed out: no WebSocket upgrade from 127.0.0.1:{port} within 0.5 s"
    _echo_still_works(qtbot, window, context)


def test_server_close_with_code_and_reason(
    qtbot: Any, window: MainWindow, context: AppContext, hostile: Callable[[Behaviour], str]
) -> None:
    url = hostile(closes_with(4001, "bye"))
    profile = context.connections.save(ConnectionProfile(name="Closer", endpoint=Endpoint(url)))
    _select_profile(qtbot, window, profile)
    session = window.session
    with qtbot.waitSignals([session.opened, session.closed], order="strict", timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert "4001" in window.banner.text and "bye" in window.banner.text, window.banner.text
    assert window.banner.text == 'Server closed the connection: 4001 (application) "bye"'
    assert window.banner.level == "warning"
    rows = wait_rows(qtbot, window, window.inspector.model.rowCount())
    in_closes = [r for r in rows if (r["dir"], r["opcode"]) == ("↓ in", "close")]
    assert [r["preview"] for r in in_closes] == ['4001 (application) "bye"'], rows
    _echo_still_works(qtbot, window, context)


def test_cancel_while_connecting(
    qtbot: Any, window: MainWindow, context: AppContext, hostile: Callable[[Behaviour], str]
) -> None:
    url = hostile(never_answers)
    profile = context.connections.save(ConnectionProfile(name="Silent", endpoint=Endpoint(url),
                                                         handshake=Handshake(timeout_s=60)))
    _select_profile(qtbot, window, profile)
    click(qtbot, window.inspector.connect_button)
    assert window.inspector.state_label.text() == "Connecting…"
    assert window.inspector.connect_button.text() == "Cancel"
    assert window.inspector.url.isReadOnly()
    with qtbot.waitSignal(window.session.state_changed, timeout=WAIT_MS):
        click(qtbot, window.inspector.connect_button)
    assert window.inspector.state_label.text() == "Closed"
    assert window.banner.text == ""  # cancelling is not an error
    assert window.inspector.connect_button.text() == "Connect"
    _echo_still_works(qtbot, window, context)


@pytest.mark.parametrize("engine", ["wire", "qt"])
def test_a_rejected_upgrade_shows_what_the_server_said(
    qtbot: Any, window: MainWindow, context: AppContext, hostile: Callable[[Behaviour], str], engine: str
) -> None:
    from tests.net.test_handshake_answers import answers
    from wsinspector.core.profiles import Protocol

    url = hostile(answers(b"HTTP/1.1 302 Found\r\nLocation: wss://elsewhere.example/feed\r\nContent-Length: 5\r\n"
                          b"Connection: close\r\n\r\nmoved"))
    profile = context.connections.save(ConnectionProfile(name="Moved", endpoint=Endpoint(url),
                                                         protocol=Protocol(engine=engine)))
    _select_profile(qtbot, window, profile)
    text = _fail_to_connect(qtbot, window)
    assert "HTTP 302 Found" in text and 'body: "moved"' in text, text
    assert "Location: wss://elsewhere.example/feed" in text, text
    _echo_still_works(qtbot, window, context)
