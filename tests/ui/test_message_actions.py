"""Acting on timeline rows through the real window against real peers: copy in every format (read back from
the clipboard), several rows as JSON Lines, Resend arriving at the server, Edit and resend, narrowing the
filter, the detail on double-click, and another action joining the menu."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication

from tests.peers import QtPeer
from tests.ui.helpers import (
    CTRL,
    LEFT,
    WAIT_MS,
    close_connection,
    compose,
    connect,
    press_ctrl_enter,
    select_row,
    send_and_wait_for_echo,
    wait_rows,
)
from tests.ui.helpers_rows import (
    clipboard,
    press,
    row_menu,
    row_menu_items,
    row_point,
    shift_click_row,
)
from tests.ui.helpers_sessions import select_peer
from wsinspector.core.payloads import PayloadMode
from wsinspector.ui.main_window import MainWindow

SHIFT_CTRL = Qt.KeyboardModifier.ShiftModifier | CTRL


def _status(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


def test_copy_a_payload_as_text_json_hex_and_base64(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, '{"id": 7, "tags": ["a"]}')
    select_row(qtbot, window, 1)

    items = row_menu_items(qtbot, window, 1)
    for shown in ("Copy as text [Ctrl+C]", "Copy as pretty JSON [Ctrl+Shift+J]", "Copy as hex [Ctrl+Shift+H]",
                  "Copy as base64 [Ctrl+Shift+B]", "Copy as JSON Lines [Ctrl+Shift+C]", "Resend [Ctrl+R]",
                  "Edit and resend… [Ctrl+E]", "Show only ↓ in", "Show only Text", "Show details [Return]"):
        assert items.get(shown) is True, (shown, items)

    row_menu(qtbot, window, 1, "Copy as text")
    assert clipboard() == '{"id": 7, "tags": ["a"]}'
    assert _status(window) == "Copied #1 as text (24 bytes)"
    row_menu(qtbot, window, 1, "Copy as pretty JSON")
    assert clipboard() == '{\n  "id": 7,\n  "tags": [\n    "a"\n  ]\n}'
    row_menu(qtbot, window, 1, "Copy as hex")
    assert clipboard() == b'{"id": 7, "tags": ["a"]}'.hex(" ")
    row_menu(qtbot, window, 1, "Copy as base64")
    assert base64.b64decode(clipboard()) == b'{"id": 7, "tags": ["a"]}'

    # the same through the keyboard
    QGuiApplication.clipboard().clear()
    press(qtbot, window, Qt.Key.Key_C, CTRL)
    assert clipboard() == '{"id": 7, "tags": ["a"]}'
    press(qtbot, window, Qt.Key.Key_J, SHIFT_CTRL)
    assert clipboard().startswith('{\n  "id": 7')

    # not JSON: the menu does not offer it, the shortcut says why and leaves the clipboard alone
    send_and_wait_for_echo(qtbot, window, "plain words")
    select_row(qtbot, window, 3)
    assert row_menu_items(qtbot, window, 3)["Copy as pretty JSON [Ctrl+Shift+J]"] is False
    before = clipboard()
    press(qtbot, window, Qt.Key.Key_J, SHIFT_CTRL)
    assert clipboard() == before
    assert _status(window).startswith("#3 is not JSON: Expecting value at line 1, column 1")
    close_connection(qtbot, window)


def test_several_rows_copy_as_json_lines(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "first")
    compose(qtbot, window, "00 ff 10", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 4)
    select_row(qtbot, window, 0)
    shift_click_row(qtbot, window, 3)
    assert len(window.inspector.timeline.selectionModel().selectedRows()) == 4
    assert row_menu_items(qtbot, window, 3)["Copy as JSON Lines [Ctrl+C]"] is True

    press(qtbot, window, Qt.Key.Key_C, CTRL)
    lines = clipboard().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["seq"], r["direction"], r["opcode"], r["length"]) for r in records] == [
        (0, "out", "text", 5), (1, "in", "text", 5), (2, "out", "binary", 3), (3, "in", "binary", 3),
    ]
    assert records[0]["text"] == "first" and "base64" not in records[0]
    assert base64.b64decode(records[2]["base64"]) == b"\x00\xff\x10" and "text" not in records[2]
    log = window.session.log
    assert records[1]["time"] == round((log.ts_ns(1) - log.started_ns) / 1e9, 6)
    assert records[1]["time_of_day"].endswith("+00:00") and len(records[1]["time_of_day"].split(".")[1]) == 12
    assert _status(window) == "Copied 4 rows as JSON Lines"
    close_connection(qtbot, window)


def test_resend_arrives_at_the_server_twice(
    qtbot: Any, window: MainWindow, qt_peer: Callable[..., QtPeer]
) -> None:
    peer = qt_peer()
    select_peer(window, peer.listen(), "Recorder")
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "order #1")
    assert peer.received == ["order #1"]
    select_row(qtbot, window, 0)
    row_menu(qtbot, window, 0, "Resend")
    qtbot.waitUntil(lambda: peer.received == ["order #1", "order #1"], timeout=WAIT_MS)
    rows = wait_rows(qtbot, window, 4)
    assert [(r["dir"], r["preview"]) for r in rows[2:]] == [("↑ out", "order #1"), ("↓ in", "order #1")]

    # Ctrl+R resends the selection; a binary message goes out binary
    compose(qtbot, window, "de ad be ef", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 6)
    select_row(qtbot, window, 4)
    press(qtbot, window, Qt.Key.Key_R, CTRL)
    qtbot.waitUntil(lambda: peer.received[-2:] == [b"\xde\xad\xbe\xef"] * 2, timeout=WAIT_MS)

    # not connected: Resend is offered disabled, and its shortcut says why
    close_connection(qtbot, window)
    select_row(qtbot, window, 0)
    assert row_menu_items(qtbot, window, 0)["Resend [Ctrl+R]"] is False
    press(qtbot, window, Qt.Key.Key_R, CTRL)
    assert _status(window) == "Not connected: Resend sends on this tab's open connection"
    assert len(peer.received) == 4


def test_edit_and_resend_loads_the_composer(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    composer = window.inspector.composer
    send_and_wait_for_echo(qtbot, window, '{"op": "sub"}')
    compose(qtbot, window, "01 02 ff", PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 4)
    compose(qtbot, window, "something else")

    select_row(qtbot, window, 1)
    row_menu(qtbot, window, 1, "Edit and resend…")
    assert composer.current_mode() is PayloadMode.JSON
    assert composer.editor.toPlainText() == '{"op": "sub"}'
    assert window.focusWidget() is composer.editor

    select_row(qtbot, window, 3)
    press(qtbot, window, Qt.Key.Key_E, CTRL)
    assert composer.current_mode() is PayloadMode.HEX
    assert composer.editor.toPlainText() == "01 02 ff"
    # edited and sent from the composer: the new bytes go out
    composer.editor.setPlainText("01 02 fe")
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 6)
    assert rows[4]["dir"] == "↑ out" and rows[4]["opcode"] == "binary" and rows[4]["preview"] == "01 02 fe"
    close_connection(qtbot, window)


def test_filter_to_a_rows_direction_and_opcode(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    for text in ("a", "b"):
        send_and_wait_for_echo(qtbot, window, text)
    with qtbot.waitSignal(window.session.frames_appended, timeout=WAIT_MS):
        window.inspector.composer.ping_button.click()
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == 6, timeout=WAIT_MS)
    bar = window.inspector.filter_bar

    select_row(qtbot, window, 1)
    row_menu(qtbot, window, 1, "Show only ↓ in")
    assert bar.direction.currentText() == "In ↓"
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == 3, timeout=WAIT_MS)
    assert {window.inspector.model.frame_at(r).direction.value for r in range(3)} == {"in"}  # type: ignore[union-attr]

    pong = next(r for r in range(3) if window.inspector.model.frame_at(r).opcode.label == "pong")  # type: ignore[union-attr]
    select_row(qtbot, window, pong)
    row_menu(qtbot, window, pong, "Show only Pong")
    assert bar.opcode.currentText() == "Pong"
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == 1, timeout=WAIT_MS)
    close_connection(qtbot, window)


def test_double_click_reveals_the_detail(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "look at me")
    page = window.inspector
    sizes = page.split.sizes()
    page.split.setSizes([sizes[0] + sizes[1], 0, sizes[2]])
    assert page.split.sizes()[1] == 0
    pos = row_point(window, 1)
    qtbot.mouseClick(page.timeline.viewport(), LEFT, pos=pos)
    qtbot.mouseDClick(page.timeline.viewport(), LEFT, pos=pos)
    assert page.split.sizes()[1] >= 80
    assert page.detail.text.toPlainText() == "look at me"
    assert page.detail.isAncestorOf(window.focusWidget())
    close_connection(qtbot, window)


def test_another_action_joins_the_row_menu(qtbot: Any, window: MainWindow) -> None:
    """What another feature adds shows in the menu with its shortcut and reads the row."""
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "keep me")
    actions = window.inspector.row_actions
    taken: list[bytes] = []
    extra = QAction("Share this message…", window)
    extra.setShortcut("Ctrl+Shift+S")
    extra.triggered.connect(lambda: taken.append(actions.current_item().payload))  # type: ignore[union-attr]
    actions.add_action(extra, "send")
    select_row(qtbot, window, 0)
    assert row_menu_items(qtbot, window, 0)["Share this message… [Ctrl+Shift+S]"] is True
    row_menu(qtbot, window, 0, "Share this message…")
    assert taken == [b"keep me"]
    close_connection(qtbot, window)
