"""A fragmented message from the server: one row per frame, and the detail pane shows fragment or message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.peers import QtPeer
from tests.ui.helpers import (
    WAIT_MS,
    click,
    close_connection,
    compose,
    connect,
    press_ctrl_enter,
    select_row,
    wait_rows,
)
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.main_window import MainWindow

TEXT = "0123456789abcdefghijklmnopqrstuvwxyzABCD"  # 40 bytes: frames of 16, 16 and 8


def test_fragmented_text_message(
    qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer], qtmodeltester: Any
) -> None:
    assert len(TEXT.encode()) == 40
    peer = qt_peer(outgoing_frame_size=16)
    profile = context.connections.save(ConnectionProfile(name="Fragmenter", endpoint=Endpoint(peer.listen())))
    window.connections.select(profile.id)
    connect(qtbot, window)
    qtbot.waitUntil(lambda: len(peer.clients) == 1, timeout=WAIT_MS)

    peer.send_text_to_all(TEXT)
    rows = wait_rows(qtbot, window, 3)
    assert [(r["dir"], r["opcode"], r["fin"], r["size"], r["preview"]) for r in rows] == [
        ("↓ in", "text", "0", "16", TEXT[:16]),
        ("↓ in", "continuation", "0", "16", TEXT[16:32]),
        ("↓ in", "continuation", "1", "8", TEXT[32:]),
    ]

    detail = window.inspector.detail
    select_row(qtbot, window, 1)
    assert detail.whole_message.isVisible()
    assert detail.whole_message.isChecked()
    assert detail.text.toPlainText() == TEXT
    assert "Showing the message of frames #0–#2: 40 bytes" in detail.summary.text()
    assert detail.hex.toPlainText().splitlines()[0].startswith("00000000  30 31 32 33")
    assert len(detail.hex.toPlainText().splitlines()) == 3  # 40 bytes at 16 a line

    click(qtbot, detail.whole_message)
    assert not detail.whole_message.isChecked()
    assert detail.text.toPlainText() == TEXT[16:32]
    assert "Showing the frame: 16 bytes" in detail.summary.text()
    assert detail.hex.toPlainText().startswith("00000000  67 68 69 6a")

    click(qtbot, detail.whole_message)
    assert detail.text.toPlainText() == TEXT

    # an unfragmented frame offers no such choice
    peer.send_text_to_all("short")
    wait_rows(qtbot, window, 4)
    select_row(qtbot, window, 3)
    assert detail.whole_message.isHidden()
    assert detail.text.toPlainText() == "short"

    qtmodeltester.check(window.inspector.model)
    close_connection(qtbot, window)


def test_fragmented_binary_message_previews_every_fragment_as_hex(
    qtbot: Any, window: MainWindow, context: AppContext, qt_peer: Callable[..., QtPeer]
) -> None:
    """The peer echoes 40 bytes as frames of 16, 16 and 8: continuation rows of a binary message are binary."""
    peer = qt_peer(outgoing_frame_size=16)
    profile = context.connections.save(ConnectionProfile(name="Fragmenter", endpoint=Endpoint(peer.listen())))
    window.connections.select(profile.id)
    connect(qtbot, window)
    data = bytes(range(0xD0, 0xF8))  # 40 bytes, none of them valid UTF-8 on its own
    compose(qtbot, window, data.hex(" "), PayloadMode.HEX)
    press_ctrl_enter(qtbot, window)
    rows = wait_rows(qtbot, window, 4)
    assert [(r["dir"], r["opcode"], r["fin"], r["size"]) for r in rows] == [
        ("↑ out", "binary", "1", "40"),
        ("↓ in", "binary", "0", "16"),
        ("↓ in", "continuation", "0", "16"),
        ("↓ in", "continuation", "1", "8"),
    ]
    assert peer.received == [data]
    assert [r["preview"] for r in rows[1:]] == [data[:16].hex(" "), data[16:32].hex(" "), data[32:].hex(" ")]

    select_row(qtbot, window, 2)
    assert window.inspector.detail.hex.toPlainText().startswith("00000000  d0 d1 d2 d3")  # whole message by default
    close_connection(qtbot, window)
