"""Composer input errors: shown inline, nothing sent, and the connection stays usable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.helpers import (
    CTRL,
    WAIT_MS,
    click,
    compose,
    connect,
    control_payload,
    focus,
    press_ctrl_enter,
    replace_text,
    send_and_wait_for_echo,
    use_engine,
    wait_rows,
)
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ENGINE_QT, ENGINE_WIRE
from wsinspector.ui.main_window import MainWindow


def _error(window: MainWindow) -> str:
    label = window.inspector.composer.error
    return label.text() if label.isVisible() else ""


def _frames_sent(window: MainWindow) -> int:
    """Frames in the session log: an outgoing frame is logged the moment it is written."""
    return len(window.session.log)


def test_send_is_disabled_while_disconnected(qtbot: Any, window: MainWindow) -> None:
    composer = window.inspector.composer
    assert not composer.send_button.isEnabled()
    assert not composer.ping_button.isEnabled()
    assert not composer.close_button.isEnabled()
    compose(qtbot, window, "too early")
    press_ctrl_enter(qtbot, window)
    assert _error(window) == "Not connected: connect first, then send"
    assert window.inspector.model.rowCount() == 0
    # connecting enables sending, and the message then goes out
    connect(qtbot, window)
    assert composer.send_button.isEnabled() and composer.ping_button.isEnabled()
    click(qtbot, composer.send_button)
    rows = wait_rows(qtbot, window, 2)
    assert [r["preview"] for r in rows] == ["too early", "too early"]
    assert _error(window) == ""


def test_invalid_json_is_reported_with_position_and_not_sent(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    send_and_wait_for_echo(qtbot, window, "before")
    compose(qtbot, window, '{"a": 1,\n "b": }', PayloadMode.JSON)
    assert "line 2, column 7" in _error(window)  # checked as the user types
    press_ctrl_enter(qtbot, window)
    error = _error(window)
    assert error.startswith("Invalid JSON: ") and "line 2, column 7" in error, error
    cursor = window.inspector.composer.editor.textCursor()
    assert (cursor.blockNumber() + 1, cursor.positionInBlock() + 1) == (2, 7)
    assert _frames_sent(window) == 2
    # the next valid message is the only thing that goes out after "before"
    send_and_wait_for_echo(qtbot, window, "after")
    assert [r["preview"] for r in wait_rows(qtbot, window, 4)] == ["before", "before", "after", "after"]


@pytest.mark.parametrize(
    ("mode", "source", "expected"),
    [
        (PayloadMode.HEX, "zz", "Not a hex digit: 'z' at position 1"),
        (PayloadMode.HEX, "de ad b", "Odd number of hex digits (5): every byte needs two"),
        (PayloadMode.BASE64, "AQL/*", "Not a base64 character: '*'"),
        (PayloadMode.BASE64, "AQL/A", "Invalid base64"),
    ],
    ids=["hex-not-a-digit", "hex-odd-digits", "base64-bad-character", "base64-bad-length"],
)
def test_bad_binary_input_is_reported_and_not_sent(
    qtbot: Any, window: MainWindow, mode: PayloadMode, source: str, expected: str
) -> None:
    connect(qtbot, window)
    compose(qtbot, window, source, mode)
    assert expected in _error(window)
    click(qtbot, window.inspector.composer.send_button)
    assert expected in _error(window)
    press_ctrl_enter(qtbot, window)
    assert expected in _error(window)
    assert _frames_sent(window) == 0
    # fixing the input clears the error and sends the bytes
    compose(qtbot, window, "01 02 ff" if mode is PayloadMode.HEX else "AQL/", mode)
    assert _error(window) == ""
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["opcode"], r["preview"]) for r in rows] == [("binary", "01 02 ff"), ("binary", "01 02 ff")]


def test_format_pretty_prints_valid_json(qtbot: Any, window: MainWindow) -> None:
    composer = window.inspector.composer
    compose(qtbot, window, "plain text")
    assert composer.format_button.isHidden()  # only offered in JSON mode
    source = '{"b":[1,2],"a":{"x":null}}'
    compose(qtbot, window, source, PayloadMode.JSON)
    click(qtbot, composer.format_button)
    assert composer.editor.toPlainText() == json.dumps(json.loads(source), indent=2)
    assert _error(window) == ""
    # broken JSON is not touched and the error says where
    compose(qtbot, window, '{"b": [1, 2}', PayloadMode.JSON)
    click(qtbot, composer.format_button)
    assert composer.editor.toPlainText() == '{"b": [1, 2}'
    assert "line 1, column 12" in _error(window)


@pytest.mark.parametrize(
    ("engine", "hint"),
    [
        # the Wire engine can send it anyway, as a deliberate fault: the error says where
        (ENGINE_WIRE, " (or Faults ▸ Close with this code, unchecked)"),
        (ENGINE_QT, ""),
    ],
)
def test_reserved_close_code_is_refused(qtbot: Any, window: MainWindow, engine: str, hint: str) -> None:
    use_engine(window, engine)
    connect(qtbot, window)
    spin = window.inspector.composer.close_code
    focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(spin, "1005")
    assert spin.value() == 1005
    click(qtbot, window.inspector.composer.close_button)
    assert _error(window) == "Close code 1005 is reserved: use 1000-1003, 1007-1011 or 3000-4999" + hint
    assert window.inspector.state_label.text() == "Open"
    assert _frames_sent(window) == 0
    # the connection still works
    send_and_wait_for_echo(qtbot, window, "still open")
    assert _error(window) == ""


def test_ping_payload_over_125_bytes_is_refused(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    control_payload(qtbot, window, "p" * 126)
    click(qtbot, window.inspector.composer.ping_button)
    assert _error(window) == "A ping payload can be at most 125 bytes; this one has 126"
    assert _frames_sent(window) == 0
    # 125 bytes is allowed
    control_payload(qtbot, window, "p" * 125)
    with qtbot.waitSignal(window.session.frames_appended, timeout=WAIT_MS):
        click(qtbot, window.inspector.composer.ping_button)
    rows = wait_rows(qtbot, window, 2)
    assert [(r["opcode"], r["size"]) for r in rows] == [("ping", "125"), ("pong", "125")]
    assert _error(window) == ""


def test_close_reason_over_123_bytes_is_refused(qtbot: Any, window: MainWindow) -> None:
    connect(qtbot, window)
    replace_text(qtbot, window.inspector.composer.close_reason, "r" * 124)
    click(qtbot, window.inspector.composer.close_button)
    assert _error(window) == "The close reason is longer than 123 bytes of UTF-8"
    assert window.inspector.state_label.text() == "Open"
    replace_text(qtbot, window.inspector.composer.close_reason, "r" * 123)
    with qtbot.waitSignal(window.session.closed, timeout=WAIT_MS):
        click(qtbot, window.inspector.composer.close_button)
    assert _error(window) == ""
    assert window.banner.text == f'You closed the connection: 1000 (normal closure) "{"r" * 123}"'


def test_a_files_bytes_go_out_and_come_back_exactly(qtbot: Any, window: MainWindow, tmp_path: Any) -> None:
    every_byte = bytes(range(256))
    (tmp_path / "blob.bin").write_bytes(every_byte)
    composer = window.inspector.composer
    connect(qtbot, window)
    assert composer.payload.load_file(str(tmp_path / "blob.bin"))
    assert composer.current_mode() is PayloadMode.BASE64, "bytes that are not text come in as base64"
    press_ctrl_enter(qtbot, window)
    wait_rows(qtbot, window, 2)
    log = window.session.log
    assert [(f.opcode.name, f.payload) for f in log.frames(0, len(log) - 1)] == [("BINARY", every_byte)] * 2
    assert not composer.payload.load_file(str(tmp_path / "missing.bin"))
    assert _error(window) == "Cannot read missing.bin: No such file or directory"
