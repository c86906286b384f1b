"""What is pasted or typed into a message editor is what is sent, character for character, in the real window
against a real `websockets` echo server (byte-exact) and real `websockets` clients of the Server page.

Qt's text document would change a no-break space into a space (``toPlainText``), make every CR, CRLF, U+2029,
U+FDD0 and U+FDD1 one and the same line break, turn U+2028 into an LF, and PySide drops a leading U+FEFF and
byte-swaps what follows a leading U+FFFE; the editor keeps them all, showing the invisible ones as symbols.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QHelpEvent, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip, QWidget
from websockets.asyncio.client import connect as ws_connect

from tests.peers import WebsocketsPeer
from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    ModalHandler,
    click,
    connect,
    focus,
    press_ctrl_enter,
    replace_text,
    select_row,
    set_mode,
    wait_rows,
)
from tests.ui.helpers_restarts import Restarts
from tests.ui.helpers_rows import row_menu
from tests.ui.helpers_sessions import select_peer
from tests.ui.test_composing import _action, _choose, _ok, _save_dialog_answer
from wsinspector.core.frames import Opcode
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload
from wsinspector.ui.automation import AutoReplyDialog
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.qtext import PlainEditor
from wsinspector.ui.saved_messages import SavedMessagesDialog
from wsinspector.ui.server_page import ServerPage

#: text Qt's widgets would change on the way in or out, each on its own and all together
TRICKY = {
    "no-break-space": "price:\u00a0100",
    "crlf": "line one\r\nline two\r\n",
    "lone-cr": "before\rafter",
    "line-separator": "one\u2028two",
    "paragraph-separator": "one\u2029two",
    "leading-bom": "\ufeffBOM first",
    "leading-fffe": "\ufffehi there",
    "qt-noncharacters": "a\ufdd0b\ufdd1c",
    "astral": "smile \U0001f600 clef \U0001d11e",
    "nul": "a\x00b",
    "mix": "\ufeff\u00a0x\r\ny\rz\u2028\u2029\ufdd0\x00\U0001f600\n\n",
}


def paste(qtbot: Any, editor: QWidget, text: str, *, over: bool = False) -> None:
    """Put ``text`` on the clipboard as another program offers it (UTF-8 bytes) and press Ctrl+V in ``editor``
    (``over``: Ctrl+A first, pasting over what it holds)."""
    data = QMimeData()
    data.setData("text/plain", text.encode("utf-8"))
    QGuiApplication.clipboard().setMimeData(data)
    focus(qtbot, editor)
    if over:
        qtbot.keyClick(editor, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(editor, Qt.Key.Key_V, CTRL)


def clear(qtbot: Any, editor: PlainEditor) -> None:
    replace_text(qtbot, editor, "")
    assert editor.toPlainText() == ""


def _pasted_while_connected(qtbot: Any, window: MainWindow, echo_peer: WebsocketsPeer, text: str) -> Any:
    """The window connected to ``echo_peer`` and ``text`` pasted into its composer; the composer."""
    select_peer(window, echo_peer.url, "websockets echo")
    connect(qtbot, window)
    composer = window.inspector.composer
    paste(qtbot, composer.editor, text)
    return composer


@pytest.fixture
def echo_peer(websockets_server: Callable[..., WebsocketsPeer]) -> WebsocketsPeer:
    return websockets_server()


@pytest.mark.parametrize("text", list(TRICKY.values()), ids=list(TRICKY))
def test_the_composer_sends_pasted_inserted_and_recalled_text_exactly(qtbot: Any, window: MainWindow,
                                                                     echo_peer: WebsocketsPeer, text: str) -> None:
    select_peer(window, echo_peer.url, "websockets echo")
    connect(qtbot, window)
    set_mode(window, PayloadMode.TEXT)
    editor = window.inspector.composer.editor

    paste(qtbot, editor, text)
    assert editor.toPlainText() == text
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)

    clear(qtbot, editor)
    editor.insertPlainText(text)  # what an input method or a drop hands over
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 4)

    clear(qtbot, editor)
    qtbot.keyClick(editor, Qt.Key.Key_Up)  # the newest message sent
    assert editor.toPlainText() == text
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 6)

    assert echo_peer.received == [text, text, text]
    log = window.session.log
    assert [log.payload(row) for row in range(6)] == [text.encode("utf-8")] * 6
    assert not window.inspector.composer.error.isVisible()


@pytest.mark.parametrize("text", list(TRICKY.values()), ids=list(TRICKY))
def test_the_server_page_sends_pasted_and_recalled_text_exactly(qtbot: Any, window: MainWindow, run: Any,
                                                               text: str) -> None:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    assert page.start(), page.status.text()
    ws = run(ws_connect(page.servers[0].url + "exact"))
    qtbot.waitUntil(page.send_button.isEnabled, timeout=WAIT_MS)
    compose = page.message
    compose.set_mode(PayloadMode.TEXT)

    paste(qtbot, compose.editor, text)
    page.send_button.click()
    assert run(ws.recv(decode=False)) == text.encode("utf-8")

    clear(qtbot, compose.editor)
    qtbot.keyClick(compose.editor, Qt.Key.Key_Up)
    assert compose.current_mode() is PayloadMode.TEXT and compose.editor.toPlainText() == text
    page.broadcast_button.click()
    assert run(ws.recv(decode=False)) == text.encode("utf-8")
    assert not compose.error.isVisible()
    run(ws.close())


def test_invisible_characters_are_shown_and_copied_as_they_are(qtbot: Any, window: MainWindow) -> None:
    editor = window.inspector.composer.editor
    paste(qtbot, editor, "a\rb\u2029c\x00d\ufeff\r\n")
    # each is a symbol the user can see (the CR of a CRLF too), not a line break or nothing
    assert editor.document().toRawText() == "a\u23ceb\u00b6c\u2400d\ufffd\u23ce\u2029"
    assert editor.blockCount() == 2

    # typed next to a symbol is plain text; Shift+Enter breaks the line as Enter does (no U+2028)
    editor.moveCursor(QTextCursor.MoveOperation.Start)
    editor.moveCursor(QTextCursor.MoveOperation.Right)
    editor.moveCursor(QTextCursor.MoveOperation.Right)
    qtbot.keyClicks(editor, "x!")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert editor.toPlainText() == "a\rx!\nb\u2029c\x00d\ufeff\r\n"
    assert editor.document().toRawText().startswith("a\u23cex!\u2029b")

    # a copy out of the editor is the text, not the symbols
    qtbot.keyClick(editor, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(editor, Qt.Key.Key_C, CTRL)
    copied = QGuiApplication.clipboard().mimeData()
    assert bytes(copied.data("text/plain").data()).decode("utf-8") == "a\rx!\nb\u2029c\x00d\ufeff\r\n"

    # undo takes back a paste in one step
    editor.setPlainText("kept")
    paste(qtbot, editor, "\r\n\u2029")
    editor.undo()
    assert editor.toPlainText() == "kept"

    # selecting keeps the symbols what they are; a copy of part of the text, after a character beyond U+FFFF
    editor.setPlainText("")
    paste(qtbot, editor, "\U0001f600\ufeff\U0001f600\rz")
    editor.moveCursor(QTextCursor.MoveOperation.Start)
    for _ in range(4):
        qtbot.keyClick(editor, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(editor, Qt.Key.Key_C, CTRL)
    copied = QGuiApplication.clipboard().mimeData()
    assert bytes(copied.data("text/plain").data()).decode("utf-8") == "\U0001f600\ufeff\U0001f600\r"
    assert editor.toPlainText() == "\U0001f600\ufeff\U0001f600\rz"

    # a symbol pasted as itself stays itself, beside the character it stands for
    editor.setPlainText("")
    paste(qtbot, editor, "\U0001f600\u23ce\r\u240d\u00b6\u2029\ufffd\ufeff")
    assert editor.toPlainText() == "\U0001f600\u23ce\r\u240d\u00b6\u2029\ufffd\ufeff"


def test_text_typed_over_a_selection_is_plain_whichever_way_it_was_selected(qtbot: Any, window: MainWindow) -> None:
    """Selected backwards from just after a symbol, the selection is replaced by what is typed as plain text:
    not drawn as a symbol, not taken for the character the symbol stands for."""
    editor = window.inspector.composer.editor
    for typed, expected in (("X", "a\rX"), ("\u23ce", "a\r\u23ce")):
        editor.setPlainText("a\rbc")
        cursor = editor.textCursor()
        cursor.setPosition(4)
        cursor.setPosition(2, QTextCursor.MoveMode.KeepAnchor)
        editor.setTextCursor(cursor)
        # a key that types the character (QTest's key clicks take ASCII only)
        QApplication.sendEvent(editor, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown,
                                                 Qt.KeyboardModifier.NoModifier, typed))
        assert editor.toPlainText() == expected
        assert not editor.textCursor().hasSelection() and editor.textCursor().position() == 3
        qtbot.keyClicks(editor, "y")
        assert editor.toPlainText() == expected + "y"
        editor.undo()
        editor.undo()
        assert editor.toPlainText() == "a\rbc"


def test_a_text_file_with_crlf_is_loaded_and_sent_as_the_same_text(qtbot: Any, window: MainWindow,
                                                                   echo_peer: WebsocketsPeer, tmp_path: Path) -> None:
    text = "\ufeffname;price\r\nt\u00e9a;1\u00a0000\r\n"
    path = tmp_path / "prices.csv"
    path.write_bytes(text.encode("utf-8"))
    select_peer(window, echo_peer.url, "websockets echo")
    connect(qtbot, window)
    set_mode(window, PayloadMode.TEXT)
    composer = window.inspector.composer
    assert composer.payload.load_file(str(path))
    assert composer.current_mode() is PayloadMode.TEXT and composer.editor.toPlainText() == text
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    assert echo_peer.received == [text]
    assert window.session.log.frame(0).opcode is Opcode.TEXT


def test_a_saved_message_is_saved_sent_and_loaded_exactly(qtbot: Any, window: MainWindow,
                                                         echo_peer: WebsocketsPeer) -> None:
    text = TRICKY["mix"]
    composer = _pasted_while_connected(qtbot, window, echo_peer, text)
    handler = ModalHandler(qtbot, _save_dialog_answer(qtbot, "Tricky", shared=False))
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Save this message"))
    handler.wait()
    profile = window.inspector.profile
    assert profile is not None and profile.messages == (("Tricky", "text", text),)
    stored = next(p for p in window.context.connections.profiles if p.id == profile.id)
    assert stored.messages == (("Tricky", "text", text),)

    replace_text(qtbot, composer.editor, "something else")
    qtbot.keyClick(composer.editor, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    wait_rows(qtbot, window, 2)
    assert echo_peer.received == [text]

    load = next(a.menu() for a in composer.saved_button.menu().actions() if a.menu() is not None)
    next(a for a in load.actions() if a.text() == "Tricky").trigger()
    assert composer.editor.toPlainText() == text


def test_a_symbol_says_what_it_stands_for(qtbot: Any, window: MainWindow) -> None:
    editor = window.inspector.composer.editor
    paste(qtbot, editor, "ab\rc")
    cursor = editor.textCursor()
    cursor.setPosition(2)
    rect = editor.cursorRect(cursor)
    at = QPoint(rect.right() + 3, rect.center().y())
    assert editor.symbol_at(at) == "\r"
    editor.viewportEvent(QHelpEvent(QEvent.Type.ToolTip, at, editor.viewport().mapToGlobal(at)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=WAIT_MS)
    assert QToolTip.text() == "U+000D (carriage return): kept and sent as it is"
    cursor.setPosition(1)
    rect = editor.cursorRect(cursor)
    assert editor.symbol_at(QPoint(rect.right() + 3, rect.center().y())) is None


def test_the_draft_and_the_history_come_back_exactly_after_a_restart(qtbot: Any, restarts: Restarts,
                                                                     websockets_server: Any) -> None:
    peer = websockets_server()
    sent, draft = TRICKY["mix"], "\ufeffdraft\u00a0kept\r\n"
    window = restarts.open()
    select_peer(window, peer.url, "websockets echo")
    connect(qtbot, window)
    paste(qtbot, window.inspector.composer.editor, sent)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    clear(qtbot, window.inspector.composer.editor)
    paste(qtbot, window.inspector.composer.editor, draft)
    restarts.close(window)

    window = restarts.open()
    editor = window.inspector.composer.editor
    assert editor.toPlainText() == draft
    clear(qtbot, editor)
    qtbot.keyClick(editor, Qt.Key.Key_Up)  # from the stored history
    assert editor.toPlainText() == sent
    connect(qtbot, window)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    assert peer.received == [sent, sent]
    restarts.close(window)


def test_the_ping_payload_and_the_close_reason_keep_what_is_pasted(qtbot: Any, window: MainWindow,
                                                                   websockets_server: Any) -> None:
    reasons: list[str] = []

    async def echo_then_note_the_close(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)
        reasons.append(ws.close_reason)

    peer = websockets_server(echo_then_note_the_close)
    select_peer(window, peer.url, "websockets echo")
    connect(qtbot, window)
    composer = window.inspector.composer
    payload = "\ufeffping\u00a0\r"
    paste(qtbot, composer.control_payload, payload)
    assert composer.control_payload.text() == payload
    click(qtbot, composer.ping_button)
    wait_rows(qtbot, window, 2)
    log = window.session.log
    assert [log.payload(row) for row in range(2)] == [payload.encode("utf-8")] * 2  # the pong answers it

    reason = "\ufeffbye\u00a0now\r\n"
    paste(qtbot, composer.close_reason, reason)
    assert composer.close_reason.text() == reason
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        click(qtbot, composer.close_button)
    qtbot.waitUntil(lambda: reasons == [reason], timeout=WAIT_MS)


def test_a_test_step_keeps_the_message_and_the_expected_text_as_pasted(qtbot: Any, window: MainWindow) -> None:
    sent, expected = TRICKY["mix"], "\ufffe\u00a0ok\r\n"
    editor = window.tests_view.editor
    editor.set_test(Scenario("exact", "ws://127.0.0.1:9/", (SendStep(TextPayload("x")), ExpectStep(TextMatcher("y")))))
    window.tabs.setCurrentWidget(window.tests_page)
    step = editor.step_editor
    editor.select_step(0)
    paste(qtbot, step.payload, sent, over=True)
    editor.select_step(1)
    paste(qtbot, step.pattern, expected, over=True)
    editor.select_step(0)
    assert editor.build_test().steps == (SendStep(TextPayload(sent)), ExpectStep(TextMatcher(expected)))


def test_the_saved_messages_manager_keeps_a_pasted_message(qtbot: Any, window: MainWindow) -> None:
    text = TRICKY["mix"]
    composer = window.inspector.composer

    def manage(dialog: QWidget) -> None:
        assert isinstance(dialog, SavedMessagesDialog)
        click(qtbot, dialog.new_button)
        replace_text(qtbot, dialog.name_edit, "Pasted")
        paste(qtbot, dialog.payload, text, over=True)
        _ok(qtbot, dialog)

    handler = ModalHandler(qtbot, manage)
    _choose(qtbot, composer.saved_button, _action(composer.saved_button, "Manage saved messages"))
    handler.wait()
    echo = next(p for p in window.context.connections.profiles if p.builtin)
    assert echo.messages == (("Pasted", "text", text),)


def test_edit_and_resend_loads_a_received_message_exactly(qtbot: Any, window: MainWindow,
                                                          echo_peer: WebsocketsPeer) -> None:
    text = TRICKY["mix"]
    composer = _pasted_while_connected(qtbot, window, echo_peer, text)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    clear(qtbot, composer.editor)
    select_row(qtbot, window, 1)  # the echo that came back
    row_menu(qtbot, window, 1, "Edit and resend…")
    qtbot.waitUntil(lambda: composer.editor.toPlainText() == text, timeout=WAIT_MS)
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 4)
    assert echo_peer.received == [text, text]


def test_an_auto_reply_sends_its_pasted_reply_exactly(qtbot: Any, window: MainWindow, websockets_server: Any) -> None:
    reply = TRICKY["mix"]
    answers: list[str | bytes] = []

    async def asks(ws: Any) -> None:
        await ws.send("hello")
        async for message in ws:
            answers.append(message)

    peer = websockets_server(asks)
    select_peer(window, peer.url, "asks")
    composer = window.inspector.composer

    def rules(dialog: QWidget) -> None:
        assert isinstance(dialog, AutoReplyDialog)
        click(qtbot, dialog.new_button)
        replace_text(qtbot, dialog.name_edit, "answer")
        dialog.match.setCurrentIndex(dialog.match.findData("equals"))
        replace_text(qtbot, dialog.pattern, "hello")
        dialog.reply_kind.setCurrentText("text")
        paste(qtbot, dialog.reply, reply, over=True)
        _ok(qtbot, dialog)

    handler = ModalHandler(qtbot, rules)
    _choose(qtbot, composer.automate_button, composer.auto_replies_action)
    handler.wait()
    connect(qtbot, window)
    qtbot.waitUntil(lambda: answers == [reply], timeout=WAIT_MS)

