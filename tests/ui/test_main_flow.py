"""The main flow against the built-in echo: connect, send text/JSON/binary, ping, close with a code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    cell,
    click,
    close_connection,
    compose,
    connect,
    control_payload,
    focus,
    press_ctrl_enter,
    replace_text,
    select_row,
    send_and_wait_for_echo,
    use_engine,
    wait_rows,
)
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_SEQ

SIX_DECIMALS = re.compile(r"\d+\.\d{6}")


def _json_tree(window: MainWindow) -> dict[str, tuple[str, str]]:
    """The JSON tab as a user reads it: (root) and its children, key -> (value, type)."""
    tree = window.inspector.detail.tree
    assert tree.topLevelItemCount() == 1
    root = tree.topLevelItem(0)
    shown = {root.text(0): (root.text(1), root.text(2))}
    for i in range(root.childCount()):
        child = root.child(i)
        shown[child.text(0)] = (child.text(1), child.text(2))
    return shown


#: what the built-in echo (a QWebSocketServer) answers the handshake with, as the Wire engine shows it
ECHO_RESPONSE_HEADERS = (
    r"Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=, "
    r"Server: wsinspector echo, Access-Control-Allow-Credentials: false, Access-Control-Allow-Methods: GET, "
    r"Access-Control-Allow-Headers: content-type, Access-Control-Allow-Origin: \*, Date: [^·]+ GMT"
)


@pytest.mark.parametrize("engine", [ENGINE_WIRE, ENGINE_QT])
def test_echo_session_end_to_end(qtbot: Any, window: MainWindow, qtmodeltester: Any, engine: str) -> None:  # noqa: PLR0915
    use_engine(window, engine)
    connect(qtbot, window)
    info = window.inspector.info
    assert window.inspector.connect_button.text() == "Disconnect"
    # the echo offers no extension; both engines show the 101 answer's headers in the Handshake view (the Qt
    # engine reads them again after QWebSocket), not as a run-on line
    name = "Wire" if engine == ENGINE_WIRE else "Qt"
    assert re.fullmatch(rf"Connected to 127\.0\.0\.1:\d+ · {name} engine · subprotocol: none · extensions: none",
                        info.text()), info.text()
    table = window.inspector.handshake_view.response_table
    answer = ", ".join(f"{table.item(row, 0).text()}: {table.item(row, 1).text()}" for row in range(table.rowCount()))
    assert re.fullmatch(ECHO_RESPONSE_HEADERS, answer), answer
    assert window.inspector.composer.send_button.isEnabled()
    assert window.banner.text == ""  # the welcome banner goes once the user connects

    # -- text, sent with Ctrl+Enter
    message = "hello, echo!"
    rows = send_and_wait_for_echo(qtbot, window, message)
    for row in rows:
        assert SIX_DECIMALS.fullmatch(row["time"]), row["time"]
        assert row["fin"] == "1"
        assert row["size"] == str(len(message.encode()))
    assert float(rows[0]["time"]) <= float(rows[1]["time"])
    assert window.inspector.composer.error.isHidden()

    select_row(qtbot, window, 1)
    assert window.inspector.detail.text.toPlainText() == message
    hex_dump = window.inspector.detail.hex.toPlainText()
    assert hex_dump.startswith("00000000  68 65 6c 6c 6f"), hex_dump
    assert "|hello, echo" in hex_dump
    assert "#1" in window.inspector.detail.summary.text() and "text" in window.inspector.detail.summary.text()
    assert window.inspector.detail.json_error.text().startswith("Not JSON: ")
    assert window.inspector.detail.tree.topLevelItemCount() == 0

    # -- JSON
    compose(qtbot, window, '{"type": "hello", "n": 2, "tags": ["a", "b"]}', PayloadMode.JSON)
    assert window.inspector.composer.error.isHidden()
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 4)
    assert [(r["dir"], r["opcode"]) for r in rows[2:]] == [("↑ out", "text"), ("↓ in", "text")]
    assert rows[3]["preview"] == '{"type": "hello", "n": 2, "tags": ["a", "b"]}'
    select_row(qtbot, window, 3)
    assert _json_tree(window) == {
        "(root)": ("{3}", "object"),
        "type": ("hello", "string"),
        "n": ("2", "number"),
        "tags": ("[2]", "array"),
    }
    assert window.inspector.detail.json_error.text() == ""

    # -- binary from hex
    compose(qtbot, window, "de ad be ef", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 6)
    assert [(r["dir"], r["opcode"], r["size"], r["preview"]) for r in rows[4:]] == [
        ("↑ out", "binary", "4", "de ad be ef"),
        ("↓ in", "binary", "4", "de ad be ef"),
    ]
    select_row(qtbot, window, 5)
    assert window.inspector.detail.hex.toPlainText().startswith("00000000  de ad be ef")

    # -- ping with a text payload
    control_payload(qtbot, window, "are you there")
    click(qtbot, window.inspector.composer.ping_button)
    rows = wait_rows(qtbot, window, 8)
    ping, pong = rows[6:]
    assert (ping["dir"], ping["opcode"], ping["preview"]) == ("↑ out", "ping", "are you there")
    assert (pong["dir"], pong["opcode"]) == ("↓ in", "pong")
    # the pong is matched to the ping and shows the round trip we measured
    assert re.fullmatch(r"RTT \d+\.\d{3} ms · are you there", pong["preview"]), pong["preview"]

    # -- close with an application code and a reason
    focus(qtbot, window.inspector.composer.close_code)
    qtbot.keyClick(window.inspector.composer.close_code, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(window.inspector.composer.close_code, "4000")
    assert window.inspector.composer.close_code.value() == 4000
    replace_text(qtbot, window.inspector.composer.close_reason, "done")
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        click(qtbot, window.inspector.composer.close_button)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    if engine == ENGINE_WIRE:
        # the Wire engine shows the server's real answer too: the echo sends our code and reason back
        rows = wait_rows(qtbot, window, 10)
        assert [(r["dir"], r["opcode"], r["fin"], r["size"], r["preview"]) for r in rows[8:]] == [
            ("↑ out", "close", "1", "6", '4000 (application) "done"'),
            ("↓ in", "close", "1", "6", '4000 (application) "done"'),
        ]
        counts = "frames: 10  (↓ 5  ↑ 5)"
    else:
        rows = wait_rows(qtbot, window, 9)
        out_close = rows[8]
        assert (out_close["dir"], out_close["opcode"]) == ("↑ out", "close")
        assert out_close["preview"] == '4000 (application) "done"'
        # The server's answering close frame is invisible to the Qt engine, and after our own close
        # QWebSocket's closeCode() holds our values: nothing is shown rather than something invented.
        counts = "frames: 9  (↓ 4  ↑ 5)"
    assert window.banner.level == "info"
    assert window.banner.text == 'You closed the connection: 4000 (application) "done"'
    assert window.inspector.connect_button.text() == "Connect"
    assert not window.inspector.composer.send_button.isEnabled()
    assert window.inspector.counts.text() == counts

    select_row(qtbot, window, 8)
    assert "4000 (application)" in window.inspector.detail.summary.text()
    assert window.inspector.detail.text.toPlainText() == "done"
    if engine == ENGINE_WIRE:
        # the real headers: ours masked with the key it went out with, the server's unmasked
        assert re.search(r"FIN 1 · RSV1 0 RSV2 0 RSV3 0 · masked 1 · key [0-9a-f]{8} · length 6<br>",
                         window.inspector.detail.summary.text()), window.inspector.detail.summary.text()
        select_row(qtbot, window, 9)
        assert "Close code <b>4000 (application)</b>, reason “done”" in window.inspector.detail.summary.text()
        assert "FIN 1 · RSV1 0 RSV2 0 RSV3 0 · masked 0 · length 6<br>" in window.inspector.detail.summary.text()
        assert window.inspector.detail.text.toPlainText() == "done"

    qtmodeltester.check(window.inspector.model)


def test_window_title_follows_the_connection(qtbot: Any, window: MainWindow) -> None:
    assert window.windowTitle() == "Local echo — Closed — wsinspector"
    connect(qtbot, window)
    assert window.windowTitle() == "Local echo — Open — wsinspector"
    close_connection(qtbot, window)
    assert window.windowTitle() == "Local echo — Closed — wsinspector"
    assert window.banner.text == "You closed the connection: 1000 (normal closure)"


def test_ctrl_k_connects_and_disconnects(qtbot: Any, window: MainWindow) -> None:
    focus(qtbot, window.inspector.timeline)
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        qtbot.keyClick(window.inspector.timeline, Qt.Key.Key_K, CTRL)
    assert window.inspector.state_label.text() == "Open"
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        qtbot.keyClick(window.inspector.timeline, Qt.Key.Key_K, CTRL)
    qtbot.waitUntil(lambda: window.inspector.state_label.text() == "Closed", timeout=WAIT_MS)
    assert window.banner.text == "You closed the connection: 1000 (normal closure)"


def test_ctrl_enter_on_the_keypad_sends_too(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    compose(qtbot, window, "from the keypad")
    qtbot.keyClick(window.inspector.composer.editor, Qt.Key.Key_Enter, CTRL | Qt.KeyboardModifier.KeypadModifier)
    rows = wait_rows(qtbot, window, 2)
    assert [r["preview"] for r in rows] == ["from the keypad", "from the keypad"]
    assert window.inspector.composer.editor.toPlainText() == "from the keypad"  # no line break was typed


def test_non_ascii_text_round_trips(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    compose(qtbot, window, "")
    # what an input method commits: one key event carrying the text
    text = "héllo ✓ 日本"
    QApplication.sendEvent(
        window.inspector.composer.editor,
        QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, text),
    )
    assert window.inspector.composer.editor.toPlainText() == text
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 2)
    size = str(len(text.encode("utf-8")))
    assert [(r["preview"], r["size"]) for r in rows] == [(text, size), (text, size)]
    select_row(qtbot, window, 1)
    assert window.inspector.detail.text.toPlainText() == text


def test_binary_ping_payload_is_previewed_as_hex(qtbot: Any, window: MainWindow) -> None:
    """A ping payload typed as hex goes out as those bytes; the timeline should show them."""
    connect(qtbot, window)
    control_payload(qtbot, window, "de ad be ef", PayloadMode.HEX)
    click(qtbot, window.inspector.composer.ping_button)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["opcode"], r["size"]) for r in rows] == [("ping", "4"), ("pong", "4")]
    assert rows[0]["preview"] == "de ad be ef"
    assert re.fullmatch(r"RTT \d+\.\d{3} ms · de ad be ef", rows[1]["preview"]), rows[1]["preview"]


def test_reconnecting_starts_a_fresh_timeline(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "first session")
    select_row(qtbot, window, 1)
    assert window.inspector.detail.text.toPlainText() == "first session"
    close_connection(qtbot, window)
    # ours: the message and the close frame; the echo's: its answer and its close frame
    assert window.inspector.counts.text() == "frames: 4  (↓ 2  ↑ 2)"

    connect(qtbot, window)
    assert window.inspector.model.rowCount() == 0
    assert window.inspector.counts.text() == "frames: 0  (↓ 0  ↑ 0)"
    assert window.inspector.detail.summary.text() == "Select a frame to see its details"
    assert window.inspector.detail.text.toPlainText() == ""
    send_and_wait_for_echo(qtbot, window, "second session")
    assert [cell(window, row, COL_SEQ) for row in range(2)] == ["0", "1"]  # numbering starts again
    close_connection(qtbot, window)
