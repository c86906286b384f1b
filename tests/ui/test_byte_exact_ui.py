"""Text that starts with U+FEFF or U+FFFE, through the window: PySide turns a Python string that starts with one
of them into a different QString (the first is dropped as a byte-order mark, the second byte-swaps the rest), so
every place that hands such text to a widget must keep it, and the timeline spells the characters out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from tests.peers import WebsocketsPeer
from tests.ui.helpers import connect, press_ctrl_enter, select_row, set_mode, wait_rows
from tests.ui.helpers_sessions import select_peer
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.scenario.model import ExpectStep, Scenario, SendStep, TextMatcher, TextPayload
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.qtext import set_plain_text


def test_pyside_still_changes_such_strings(qapp: Any) -> None:
    """The reason for ui.qtext: if PySide ever converts these strings faithfully, the workaround can go."""
    edit = QPlainTextEdit()
    edit.setPlainText("\ufeffBOM")
    assert edit.toPlainText() == "BOM"
    edit.setPlainText("\ufffehi")
    assert edit.toPlainText() != "\ufffehi"


@pytest.mark.parametrize("text", ["\ufeffBOM", "\ufffehi", "\ufeff", "plain"])
def test_set_plain_text_keeps_the_first_character(qtbot: Any, text: str) -> None:
    edit = QPlainTextEdit()
    qtbot.addWidget(edit)
    seen: list[str] = []
    edit.textChanged.connect(lambda: seen.append(edit.toPlainText()))
    set_plain_text(edit, text)
    assert edit.toPlainText() == text
    assert seen == [text]  # one change, never the placeholder
    assert not edit.document().isUndoAvailable()


@pytest.fixture
def echo_peer(websockets_server: Callable[..., WebsocketsPeer]) -> WebsocketsPeer:
    """A `websockets` echo server: byte-exact (the built-in echo is a QWebSocketServer, whose text goes
    through the same conversion and comes back changed; README, "Two engines")."""
    return websockets_server()


@pytest.mark.parametrize(("text", "shown"), [("\ufeffBOM out", "‹U+FEFF›BOM out"), ("\ufffehi", "‹U+FFFE›hi")])
def test_a_leading_bom_goes_out_and_comes_back_byte_exact(qtbot: Any, window: MainWindow, echo_peer: WebsocketsPeer,
                                                          text: str, shown: str) -> None:
    select_peer(window, echo_peer.url, "websockets echo")
    connect(qtbot, window)
    set_mode(window, PayloadMode.TEXT)
    set_plain_text(window.inspector.composer.editor, text)  # as pasting it would put it there
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["dir"], r["preview"]) for r in rows] == [("↑ out", shown), ("↓ in", shown)]
    assert window.session.log.payload(0) == text.encode("utf-8")
    assert window.session.log.payload(1) == text.encode("utf-8")
    select_row(qtbot, window, 1)
    assert window.inspector.detail.text.toPlainText() == text
    assert echo_peer.received == [text]


def test_the_test_editor_keeps_a_leading_bom(qtbot: Any, window: MainWindow) -> None:
    test = Scenario("bom", "ws://127.0.0.1:9/", (SendStep(TextPayload("\ufeffhello")),
                                                  ExpectStep(TextMatcher("\ufffehi"))))
    editor = window.tests_view.editor
    editor.set_test(test)
    editor.select_step(1)
    editor.select_step(0)
    assert editor.build_test() == test
