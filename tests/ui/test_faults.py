"""The composer's Wire engine controls, driven like a user: the frame size, and the Faults menu (an unsolicited
pong, automatic pongs off, a close frame with a code RFC 6455 forbids, an empty close frame), against the
built-in echo or a real `websockets` server on 127.0.0.1; and both disabled when the connection uses the Qt
engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.peers import WebsocketsPeer
from tests.ui.helpers import (
    WAIT_MS,
    all_rows,
    choose_fault,
    close_connection,
    compose,
    connect,
    control_payload,
    press_ctrl_enter,
    select_row,
    send_and_wait_for_echo,
    type_number,
    use_engine,
    wait_rows,
)
from tests.ui.helpers_sessions import select_peer
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ENGINE_QT
from wsinspector.ui.main_window import MainWindow

#: what the detail pane says of an incoming ping while automatic pongs are off
NO_PONG_NOTE = "not answered: automatic pongs are off for this connection"


def _shown(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(r["dir"], r["opcode"], r["fin"], r["preview"]) for r in rows]


def _summary(qtbot: Any, window: MainWindow, row: int) -> str:
    select_row(qtbot, window, row)
    return window.inspector.detail.summary.text()


# -- frame size --------------------------------------------------------------------------------------------


def test_frame_size_splits_each_message_into_frames(qtbot: Any, window: MainWindow) -> None:
    spin = window.inspector.composer.frame_size
    assert spin.value() == 0 and spin.text() == "one frame"
    connect(qtbot, window)
    assert spin.isEnabled()
    type_number(qtbot, spin, "4")
    assert spin.value() == 4

    compose(qtbot, window, "abcdefghij")
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 4)
    # 4 + 4 + 2 bytes: FIN only on the last; the echo reassembled the message and sends it back whole
    assert [(r["dir"], r["opcode"], r["fin"], r["size"], r["preview"]) for r in rows] == [
        ("↑ out", "text", "0", "4", "abcd"),
        ("↑ out", "continuation", "0", "4", "efgh"),
        ("↑ out", "continuation", "1", "2", "ij"),
        ("↓ in", "text", "1", "10", "abcdefghij"),
    ]
    assert window.inspector.composer.error.isHidden()

    # a message no longer than the frame size is one frame; "one frame" again sends whole messages
    send_and_wait_for_echo(qtbot, window, "abc")
    type_number(qtbot, spin, "0")
    assert spin.value() == 0
    rows = send_and_wait_for_echo(qtbot, window, "abcdefghij")
    assert spin.text() == "one frame"  # shown once the field is left
    assert [(r["fin"], r["size"]) for r in rows] == [("1", "10"), ("1", "10")]
    assert window.inspector.model.rowCount() == 8
    close_connection(qtbot, window)


def test_frame_size_with_compression(
    qtbot: Any, window: MainWindow, websockets_server: Callable[..., WebsocketsPeer]
) -> None:
    """Against a server that accepts permessage-deflate, a fragmented message is compressed as a whole: RSV1
    is set on its first frame only (RFC 7692), and the server gets the message intact."""
    peer = websockets_server()
    select_peer(window, peer.url, "websockets")
    connect(qtbot, window)
    assert "extensions: permessage-deflate" in window.inspector.info.text()
    type_number(qtbot, window.inspector.composer.frame_size, "8")
    message = "0123456789" * 2
    compose(qtbot, window, message)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 4)
    assert _shown(rows) == [
        ("↑ out", "text", "0", "01234567"),
        ("↑ out", "continuation", "0", "89012345"),
        ("↑ out", "continuation", "1", "6789"),
        ("↓ in", "text", "1", message),
    ]
    assert peer.received == [message]
    assert "RSV1 1 RSV2 0 RSV3 0 · masked 1" in _summary(qtbot, window, 0)
    assert "RSV1 0 RSV2 0 RSV3 0 · masked 1" in _summary(qtbot, window, 1)
    assert "RSV1 0 RSV2 0 RSV3 0 · masked 1" in _summary(qtbot, window, 2)
    assert "RSV1 1 RSV2 0 RSV3 0 · masked 0" in _summary(qtbot, window, 3)
    # the split is made before compression: each frame says both lengths
    assert re.search(r"[0-9]+ bytes on the wire, compressed; 8 before compression", _summary(qtbot, window, 0))
    assert re.search(r"[0-9]+ bytes on the wire, compressed; 20 decompressed", _summary(qtbot, window, 3))
    close_connection(qtbot, window)


# -- pongs -------------------------------------------------------------------------------------------------


def test_unsolicited_pong_goes_out(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    control_payload(qtbot, window, "nobody asked")
    choose_fault(qtbot, window, window.inspector.composer.pong_action)
    rows = wait_rows(qtbot, window, 1)
    assert [(r["dir"], r["opcode"], r["fin"], r["size"], r["preview"]) for r in rows] == [
        ("↑ out", "pong", "1", "12", "nobody asked"),
    ]
    assert window.inspector.composer.error.isHidden()
    # a server may ignore an unsolicited pong (RFC 6455 5.5.3): the echo does, and the connection goes on
    send_and_wait_for_echo(qtbot, window, "still here")
    assert window.inspector.state_label.text() == "Open"
    close_connection(qtbot, window)


class PingingServer:
    """A `websockets` server that, for each message "ping me N", sends a ping with payload N, then echoes the
    message. ``waiters[N]`` is done once a pong answering that ping came back."""

    def __init__(self) -> None:
        self.waiters: dict[str, Any] = {}

    async def handler(self, ws: Any) -> None:
        async for message in ws:
            if isinstance(message, str) and message.startswith("ping me "):
                payload = message.removeprefix("ping me ")
                self.waiters[payload] = await ws.ping(payload.encode())
            await ws.send(message)


def _ping_round(qtbot: Any, window: MainWindow, payload: str) -> list[dict[str, str]]:
    """Send "ping me PAYLOAD"; wait for its echo and the server's ping; the new rows (the ping is parsed, and
    an automatic pong written, before control goes back to the event loop: nothing can still be on the way)."""
    before = window.inspector.model.rowCount()
    compose(qtbot, window, f"ping me {payload}")
    press_ctrl_enter(qtbot, window)

    def arrived() -> bool:
        rows = all_rows(window)[before:]
        return ("↓ in", "text", "1", f"ping me {payload}") in _shown(rows) and (
            "↓ in", "ping", "1", payload) in _shown(rows)

    qtbot.waitUntil(arrived, timeout=WAIT_MS)
    return all_rows(window)[before:]


def test_automatic_pongs_off_leaves_a_server_ping_unanswered(
    qtbot: Any, window: MainWindow, websockets_server: Callable[..., WebsocketsPeer]
) -> None:
    server = PingingServer()
    peer = websockets_server(server.handler)
    select_peer(window, peer.url, "Pinging server")
    connect(qtbot, window)
    auto = window.inspector.composer.auto_pong_action
    assert auto.isChecked() and window.session.auto_pong

    # by default the Wire engine answers, and shows both the server's ping and its own pong
    _ping_round(qtbot, window, "1")
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == 4, timeout=WAIT_MS)
    rows = all_rows(window)
    assert sorted(_shown(rows)) == sorted([
        ("↑ out", "text", "1", "ping me 1"),
        ("↓ in", "ping", "1", "1"),
        ("↓ in", "text", "1", "ping me 1"),
        ("↑ out", "pong", "1", "1"),
    ])
    qtbot.waitUntil(server.waiters["1"].done, timeout=WAIT_MS)

    # Faults ▸ Answer pings automatically, unchecked
    choose_fault(qtbot, window, auto)
    assert not auto.isChecked()
    assert not window.session.auto_pong
    rows = _ping_round(qtbot, window, "2")
    assert sorted(_shown(rows)) == sorted([
        ("↑ out", "text", "1", "ping me 2"),
        ("↓ in", "ping", "1", "2"),
        ("↓ in", "text", "1", "ping me 2"),
    ])
    ping_row = 4 + _shown(rows).index(("↓ in", "ping", "1", "2"))
    assert NO_PONG_NOTE in _summary(qtbot, window, ping_row)
    # one more round trip: a pong written before it would have reached the server by now
    send_and_wait_for_echo(qtbot, window, "anyone?")
    assert not server.waiters["2"].done()
    assert not any(r["opcode"] == "pong" and r["preview"] == "2" for r in all_rows(window))

    # answered late, by hand: Faults ▸ Send an unsolicited pong with the ping's payload
    control_payload(qtbot, window, "2")
    choose_fault(qtbot, window, window.inspector.composer.pong_action)
    qtbot.waitUntil(lambda: _shown(all_rows(window))[-1] == ("↑ out", "pong", "1", "2"), timeout=WAIT_MS)
    qtbot.waitUntil(server.waiters["2"].done, timeout=WAIT_MS)
    close_connection(qtbot, window)


# -- text that is not UTF-8 --------------------------------------------------------------------------------


def test_bytes_sent_as_a_text_frame(qtbot: Any, window: MainWindow) -> None:
    """Faults ▸ Send the bytes as a text frame: invalid UTF-8 goes out with the text opcode, and the echo
    fails the connection with 1007 (RFC 6455 8.1); both close frames are shown."""
    connect(qtbot, window)
    compose(qtbot, window, "68 69 ff", PayloadMode.HEX)
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        choose_fault(qtbot, window, window.inspector.composer.text_bytes_action)
    rows = wait_rows(qtbot, window, 3)
    reason = '1007 (invalid payload data) "Invalid UTF-8 code encountered."'
    assert [(r["dir"], r["opcode"], r["size"], r["preview"]) for r in rows] == [
        ("↑ out", "text", "3", "hi\ufffd"),
        ("↓ in", "close", "33", reason),
        ("↑ out", "close", "33", reason),
    ]
    assert window.session.log.payload(0) == b"hi\xff"  # sent as given, not re-encoded
    assert "deliberately not valid UTF-8 (Faults ▸ Send the bytes as a text frame)" in _summary(qtbot, window, 0)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert window.banner.text == "Server closed the connection: " + reason


# -- close frames ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["1005", "1004", "999", "5000"])
def test_close_with_a_forbidden_code(
    qtbot: Any, window: MainWindow, websockets_server: Callable[..., WebsocketsPeer], code: str
) -> None:
    """Faults ▸ Close with this code, unchecked: the close frame goes out with the code as typed, and the
    server's reaction is shown (a conforming one fails the connection with 1002)."""
    peer = websockets_server()
    select_peer(window, peer.url, "websockets")
    connect(qtbot, window)
    type_number(qtbot, window.inspector.composer.close_code, code)
    assert window.inspector.composer.close_code.value() == int(code)
    with qtbot.captureExceptions() as exceptions:
        choose_fault(qtbot, window, window.inspector.composer.raw_close_action)
    assert not exceptions, f"Faults ▸ Close with this code, unchecked, with {code}: {exceptions[0][1]!r}"
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    rows = wait_rows(qtbot, window, 2)
    out_close, in_close = rows
    assert (out_close["dir"], out_close["opcode"], out_close["size"]) == ("↑ out", "close", "2")
    assert out_close["preview"].split(" ")[0] == code
    assert "masked 1" in _summary(qtbot, window, 0)
    assert (in_close["dir"], in_close["opcode"], in_close["preview"]) == (
        "↓ in", "close", '1002 (protocol error) "invalid status code"')
    assert window.inspector.composer.error.isHidden()
    assert window.banner.text.startswith(f"You closed the connection: {code}"), window.banner.text
    assert window.banner.text.endswith('; the server answered 1002 (protocol error) "invalid status code"')
    assert "deliberately a code RFC 6455 forbids on the wire" in _summary(qtbot, window, 0)


def test_close_with_an_empty_close_frame(
    qtbot: Any, window: MainWindow, websockets_server: Callable[..., WebsocketsPeer]
) -> None:
    peer = websockets_server()
    select_peer(window, peer.url, "websockets")
    connect(qtbot, window)
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        choose_fault(qtbot, window, window.inspector.composer.empty_close_action)
    rows = wait_rows(qtbot, window, 2)
    # no status code at all, and the server answers the same way (RFC 6455 5.5.1)
    assert [(r["dir"], r["opcode"], r["size"], r["preview"]) for r in rows] == [
        ("↑ out", "close", "0", "no code"),
        ("↓ in", "close", "0", "no code"),
    ]
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert window.banner.text == "You closed the connection: no code"


# -- the Qt engine -----------------------------------------------------------------------------------------


def test_qt_engine_disables_faults_and_frame_size(qtbot: Any, window: MainWindow) -> None:
    composer = window.inspector.composer
    # Wire (the default): the frame size can be set any time, the Faults menu once connected
    assert composer.frame_size.isEnabled() and not composer.faults_button.isEnabled()
    type_number(qtbot, composer.frame_size, "4")
    connect(qtbot, window)
    assert composer.faults_button.isEnabled() and window.session.can_inject_faults
    close_connection(qtbot, window)

    use_engine(window, ENGINE_QT)
    assert not composer.frame_size.isEnabled() and not composer.faults_button.isEnabled()
    connect(qtbot, window)
    assert "Qt engine" in window.inspector.info.text()
    assert not window.session.can_inject_faults
    assert not composer.frame_size.isEnabled()
    assert not composer.faults_button.isEnabled()
    assert composer.faults_button.toolTip().endswith("Needs the Wire engine: choose it in the connection's settings.")
    # the frame size typed earlier does not apply: the message goes out whole
    rows = send_and_wait_for_echo(qtbot, window, "abcdefghij")
    assert [(r["fin"], r["size"]) for r in rows] == [("1", "10"), ("1", "10")]
    close_connection(qtbot, window)
