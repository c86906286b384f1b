"""The Proxy tab composes as the inspector's composer does, in the real window, a real `websockets` client
through the proxy to a real `websockets` echo server: binary injected to the client and to the upstream arrives
as bytes, byte for byte, and bad base64 is one line with nothing sent; a paused binary message is shown as hex
and goes on byte for byte when left alone, binary when edited (in hex or base64); a paused text message the
editor could not give back exactly (a CRLF) goes on unchanged; bad hex, or bytes that are not UTF-8 for a text
message, are one line and the message stays paused."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from websockets.asyncio.client import connect

from wsinspector.core.payloads import PayloadMode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.proxy_panel import ProxyPanel
from wsinspector.ui.server_page import ServerPage

WAIT_MS = 5000
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\xff"


def _panel(window: MainWindow) -> ProxyPanel:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.parts.setCurrentWidget(page.proxy)
    return page.proxy


def _send_and_pause(qtbot: Any, run: Any, panel: ProxyPanel, ws: Any, message: str | bytes) -> None:
    """Send ``message`` through the proxy and wait until the breakpoint holds it (the only one paused)."""
    run(ws.send(message))
    qtbot.waitUntil(lambda: panel.paused.count() == 1, timeout=WAIT_MS)


def _start(panel: ProxyPanel, upstream: Any, breakpoints: str = "") -> str:
    panel.upstream.setText(upstream.url)
    panel.breakpoints.set_text(breakpoints)
    assert panel.start(), panel.status.text()
    return panel.status.text().split()[2]


def test_binary_is_injected_both_ways_byte_for_byte(qtbot: Any, window: MainWindow, run: Any,
                                                    websockets_server: Any) -> None:
    upstream = websockets_server()
    panel = _panel(window)
    ws = run(connect(_start(panel, upstream)))
    run(ws.send("hello"))
    assert run(ws.recv()) == "hello"  # both hops are open
    compose = panel.inject_payload

    panel.inject_direction.setCurrentIndex(panel.inject_direction.findText("to the client (in)"))
    compose.set_mode(PayloadMode.HEX)
    compose.editor.setPlainText("01 02 ff 00")
    panel.inject_button.click()
    got = run(ws.recv())
    assert got == b"\x01\x02\xff\x00" and isinstance(got, bytes)
    assert compose.editor.toPlainText() == "" and compose.current_mode() is PayloadMode.HEX

    panel.inject_direction.setCurrentIndex(panel.inject_direction.findText("to the upstream (out)"))
    compose.set_mode(PayloadMode.BASE64)
    compose.editor.setPlainText("AAEC/w*=")
    panel.inject_button.click()
    assert compose.error.text() == "Not a base64 character: '*'"
    assert compose.editor.toPlainText() == "AAEC/w*=", "what was typed stays, to be put right"
    compose.editor.setPlainText("AAEC/w==")
    panel.inject_button.click()
    assert run(ws.recv()) == b"\x00\x01\x02\xff"  # the upstream's echo of it
    assert upstream.received == ["hello", b"\x00\x01\x02\xff"], "the bad base64 never went anywhere"
    # what was injected is there again with Up, in its mode
    qtbot.keyClick(compose.editor, Qt.Key.Key_Up)
    assert compose.current_mode() is PayloadMode.BASE64 and compose.editor.toPlainText() == "AAEC/w=="
    qtbot.keyClick(compose.editor, Qt.Key.Key_Up)
    assert compose.current_mode() is PayloadMode.HEX and compose.editor.toPlainText() == "01 02 ff 00"
    run(ws.close())
    panel.stop()


def test_a_paused_binary_message_is_shown_as_hex_and_stays_binary(qtbot: Any, window: MainWindow, run: Any,
                                                                  websockets_server: Any) -> None:
    upstream = websockets_server()
    panel = _panel(window)
    ws = run(connect(_start(panel, upstream, "out:every")))
    edit = panel.edit

    # left alone: byte for byte, binary
    _send_and_pause(qtbot, run, panel, ws, PNG_HEAD)
    assert "10 bytes of binary: 89 50 4e 47 0d 0a 1a 0a 00 ff" in panel.paused.item(0).text()
    assert edit.current_mode() is PayloadMode.HEX
    assert edit.editor.toPlainText() == "89 50 4e 47 0d 0a 1a 0a 00 ff"
    panel.forward_button.click()
    assert run(ws.recv()) == PNG_HEAD
    assert upstream.received == [PNG_HEAD]

    # a text message with a CRLF is shown as text, its CR as a symbol, and goes on as the same text
    _send_and_pause(qtbot, run, panel, ws, "line one\r\nline two")
    assert edit.current_mode() is PayloadMode.TEXT and edit.editor.toPlainText() == "line one\r\nline two"
    assert edit.editor.document().toRawText() == "line one\u23ce\u2029line two"
    panel.forward_button.click()
    assert run(ws.recv()) == "line one\r\nline two"

    # edited as base64: still binary
    _send_and_pause(qtbot, run, panel, ws, b"\x00\x01\x02")
    edit.set_mode(PayloadMode.BASE64)
    assert edit.editor.toPlainText() == "AAEC"
    edit.editor.setPlainText("AAEDBA==")
    panel.forward_button.click()
    got = run(ws.recv())
    assert got == b"\x00\x01\x03\x04" and isinstance(got, bytes)

    # bad hex: one line, the message stays paused until it is put right
    _send_and_pause(qtbot, run, panel, ws, b"\x10")
    edit.editor.setPlainText("10 2x")
    panel.forward_button.click()
    assert edit.error.text() == "Not a hex digit: 'x' at position 5"
    assert panel.paused.count() == 1
    edit.editor.setPlainText("10 20")
    panel.forward_button.click()
    assert run(ws.recv()) == b"\x10\x20"

    # a text message stays text: bytes that are not UTF-8 are refused
    _send_and_pause(qtbot, run, panel, ws, "plain")
    assert edit.current_mode() is PayloadMode.TEXT and edit.editor.toPlainText() == "plain"
    edit.set_mode(PayloadMode.HEX)
    assert edit.editor.toPlainText() == "70 6c 61 69 6e"
    edit.editor.setPlainText("70 ff")
    panel.forward_button.click()
    assert edit.error.text() == "A text message must be UTF-8: these bytes are not (it goes on as text)"
    assert panel.paused.count() == 1
    edit.editor.setPlainText("70 6c 75 73")
    panel.forward_button.click()
    assert run(ws.recv()) == "plus"
    assert upstream.received == [PNG_HEAD, "line one\r\nline two", b"\x00\x01\x03\x04", b"\x10\x20", "plus"]
    run(ws.close())
    panel.stop()


def test_a_paused_message_too_large_to_edit_goes_on_as_it_came(qtbot: Any, window: MainWindow, run: Any,
                                                                websockets_server: Any) -> None:
    upstream = websockets_server()
    panel = _panel(window)
    ws = run(connect(_start(panel, upstream, "out:every")))
    big = bytes(range(256)) * 1600  # 409,600 bytes: well over a million characters of hex
    _send_and_pause(qtbot, run, panel, ws, big)
    edit = panel.edit
    assert edit.error.text() == "This message is 409,600 bytes: too large to edit here; it goes on as it came"
    assert edit.editor.isReadOnly() and not edit.mode.isEnabled() and edit.editor.toPlainText() == ""
    panel.forward_button.click()
    assert run(ws.recv()) == big
    assert upstream.received == [big]
    # the next message is editable again
    _send_and_pause(qtbot, run, panel, ws, b"\x01")
    assert edit.mode.isEnabled() and not edit.editor.isReadOnly() and edit.editor.toPlainText() == "01"
    assert not edit.error.isVisible()
    panel.drop_button.click()
    run(ws.close())
    panel.stop()
