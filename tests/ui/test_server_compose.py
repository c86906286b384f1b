"""The Server page composes as the inspector's composer does, in the real window with real `websockets` clients:
binary typed as hex reaches one client as bytes, byte for byte; bad hex is one line under the editor and nothing
is sent; base64 and a file's bytes (every byte value) are broadcast to two clients; JSON is checked and
pretty-printed; switching hex to base64 shows the same bytes, and bytes that are not text stay binary; Up and
Down walk what was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from websockets.asyncio.client import connect

from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.payloads import PayloadMode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.server_page import ServerPage

WAIT_MS = 5000
EVERY_BYTE = bytes(range(256))


def _page(window: MainWindow) -> ServerPage:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    return page


def _sent(page: ServerPage) -> list[tuple[Opcode, bytes]]:
    source = page.model.source
    frames = [] if source is None else source.frames(0, len(source) - 1)
    return [(f.opcode, f.payload) for f in frames if f.direction is Direction.OUT and not f.opcode.is_control]


def test_binary_from_the_server_page_reaches_the_client_byte_for_byte(qtbot: Any, window: MainWindow,
                                                                     run: Any) -> None:
    page = _page(window)
    assert page.start(), page.status.text()
    url = page.servers[0].url
    ws = run(connect(url + "bin"))
    qtbot.waitUntil(page.send_button.isEnabled, timeout=WAIT_MS)
    compose = page.message

    compose.set_mode(PayloadMode.HEX)
    compose.editor.setPlainText("00 ff 0x10,80\n7f")
    page.send_button.click()
    got = run(ws.recv())
    assert got == b"\x00\xff\x10\x80\x7f" and isinstance(got, bytes)

    compose.editor.setPlainText("00 zz 01")
    assert compose.error.text() == "Not a hex digit: 'z' at position 4"  # as it is typed
    page.send_button.click()
    assert compose.error.isVisible() and compose.error.text() == "Not a hex digit: 'z' at position 4"
    assert compose.editor.textCursor().position() == 3, "the cursor is put where it went wrong"
    compose.editor.setPlainText("abc")
    page.send_button.click()
    assert compose.error.text() == "Odd number of hex digits (3): every byte needs two"

    # nothing went out for either: the next message the client gets is the one after them
    compose.set_mode(PayloadMode.TEXT)
    compose.editor.setPlainText("plain text after all")
    page.send_button.click()
    assert run(ws.recv()) == "plain text after all"
    assert not compose.error.isVisible()
    assert _sent(page) == [(Opcode.BINARY, b"\x00\xff\x10\x80\x7f"), (Opcode.TEXT, b"plain text after all")]

    # Up walks back to what was sent, in its mode (what was refused is not there); Down comes back
    qtbot.keyClick(compose.editor, Qt.Key.Key_Up)
    assert compose.current_mode() is PayloadMode.HEX and compose.editor.toPlainText() == "00 ff 0x10,80\n7f"
    qtbot.keyClick(compose.editor, Qt.Key.Key_Up)
    assert compose.editor.toPlainText() == "00 ff 0x10,80\n7f", "nothing older"
    compose.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(compose.editor, Qt.Key.Key_Down)
    assert compose.current_mode() is PayloadMode.TEXT and compose.editor.toPlainText() == "plain text after all"
    run(ws.close())


def test_base64_and_a_files_bytes_are_broadcast_to_every_client(qtbot: Any, window: MainWindow, run: Any,
                                                                tmp_path: Path) -> None:
    page = _page(window)
    assert page.start(), page.status.text()
    url = page.servers[0].url
    first, second = run(connect(url + "a")), run(connect(url + "b"))
    qtbot.waitUntil(lambda: len(page.servers[0].live) == 2 and page.broadcast_button.isEnabled(), timeout=WAIT_MS)
    compose = page.message

    compose.set_mode(PayloadMode.BASE64)
    compose.editor.setPlainText("3q2+7w==")
    page.broadcast_button.click()
    assert run(first.recv()) == run(second.recv()) == b"\xde\xad\xbe\xef"
    assert page.status.text() == f"Sent to 2 clients of {url} (4 bytes of binary)"

    blob = tmp_path / "every-byte.bin"
    blob.write_bytes(EVERY_BYTE)
    compose.set_mode(PayloadMode.TEXT)
    assert compose.load_file(str(blob))
    assert compose.current_mode() is PayloadMode.BASE64, "bytes that are not text come in as base64"
    page.broadcast_button.click()
    assert run(first.recv()) == run(second.recv()) == EVERY_BYTE
    assert page.status.text() == f"Sent to 2 clients of {url} (256 bytes of binary)"

    # in a text mode a text file comes in as text, exactly; one that is gone is a line under the editor
    (tmp_path / "note.txt").write_bytes("héllo\n\twörld ✓".encode())
    compose.editor.clear()
    compose.set_mode(PayloadMode.JSON)
    assert compose.load_file(str(tmp_path / "note.txt"))
    assert compose.current_mode() is PayloadMode.TEXT
    page.broadcast_button.click()
    assert run(first.recv()) == run(second.recv()) == "héllo\n\twörld ✓"
    assert not compose.load_file(str(tmp_path / "gone.bin"))
    assert compose.error.text() == "Cannot read gone.bin: No such file or directory"
    run(first.close())
    run(second.close())


def test_json_is_checked_and_formatted_and_the_modes_show_the_same_bytes(qtbot: Any, window: MainWindow,
                                                                        run: Any) -> None:
    page = _page(window)
    assert page.start(), page.status.text()
    ws = run(connect(page.servers[0].url))
    qtbot.waitUntil(page.send_button.isEnabled, timeout=WAIT_MS)
    compose = page.message

    compose.set_mode(PayloadMode.JSON)
    assert compose.format_button.isVisible()
    compose.editor.setPlainText('{"op": "join",}')
    page.send_button.click()
    assert compose.error.text().startswith("Invalid JSON: Expecting property name enclosed in double quotes")
    compose.editor.setPlainText('{"op":"join","room":"lobby"}')
    compose.format_button.click()
    assert compose.editor.toPlainText() == '{\n  "op": "join",\n  "room": "lobby"\n}'
    page.send_button.click()
    assert run(ws.recv()) == '{\n  "op": "join",\n  "room": "lobby"\n}'

    # the same bytes in another mode: text to hex to base64 and back
    compose.set_mode(PayloadMode.TEXT)
    compose.editor.setPlainText("hi ✓")
    compose.set_mode(PayloadMode.HEX)
    assert compose.editor.toPlainText() == "68 69 20 e2 9c 93"
    compose.set_mode(PayloadMode.BASE64)
    assert compose.editor.toPlainText() == "aGkg4pyT"
    compose.set_mode(PayloadMode.TEXT)
    assert compose.editor.toPlainText() == "hi ✓"
    # bytes that are not text cannot be edited as text: the mode stays binary, saying why
    compose.set_mode(PayloadMode.HEX)
    compose.editor.setPlainText("ff fe 00")
    compose.set_mode(PayloadMode.TEXT)
    assert compose.current_mode() is PayloadMode.HEX and compose.editor.toPlainText() == "ff fe 00"
    assert compose.error.text() == "These bytes are not text that can be edited as text: they stay Binary (hex)"
    page.send_button.click()
    assert run(ws.recv()) == b"\xff\xfe\x00"
    run(ws.close())
