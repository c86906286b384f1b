"""Opening a stored session: read-only in the Inspector, beside a live connection that carries on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.helpers import WAIT_MS, all_rows, click, connect, select_row, send_and_wait_for_echo
from tests.ui.helpers_sessions import (
    FloodPeer,
    FlushWatcher,
    click_session,
    echo_round,
    open_stored,
    select_peer,
    sessions_button,
    show_tab,
)
from wsinspector.app.context import AppContext
from wsinspector.ui.main_window import MainWindow

MESSAGES = ["first stored", "second stored", "third {stored: true}"]


@pytest.fixture
def pusher() -> Iterator[FloodPeer]:
    peer = FloodPeer()
    yield peer
    peer.stop()


def _expected_previews() -> list[str]:
    """Each message and its echo, then our close frame and the echo's answer to it."""
    return [m for m in MESSAGES for _ in range(2)] + ["1000 (normal closure)"] * 2


def test_double_click_opens_a_stored_session_read_only(
    qtbot: Any, window: MainWindow, context: AppContext, qtmodeltester: Any, pusher: FloodPeer
) -> None:
    stored_id = echo_round(qtbot, window, MESSAGES)
    recorded = all_rows(window)  # what the live timeline showed when the session ended
    assert [r["preview"] for r in recorded] == _expected_previews()

    # a live connection to another server stays open meanwhile
    select_peer(window, pusher.listen(), "Pusher")
    connect(qtbot, window)
    pusher.wait_client(qtbot)
    send_and_wait_for_echo(qtbot, window, "live before")
    live_before = len(window.session.log)
    assert window.inspector.composer.send_button.isEnabled()

    open_stored(qtbot, window, stored_id)
    qtmodeltester.check(window.inspector.model)
    label = window.inspector.viewing_label.text()
    assert "Viewing stored session <b>Local echo</b>" in label
    assert "closed" in label and "8 frames (read-only)" in label
    assert window.inspector.model.rowCount() == context.store.stored_frame_count(stored_id) == 8
    assert all_rows(window) == recorded  # times, directions, opcodes, sizes and previews alike
    assert window.inspector.counts.text() == "frames: 8  (↓ 4  ↑ 4)"
    assert not window.inspector.composer.send_button.isEnabled()
    assert not window.inspector.composer.ping_button.isEnabled()
    assert not window.inspector.composer.close_button.isEnabled()
    live = window.connection_tabs.live_page  # the live connection carries on, in a tab of its own
    assert live is not window.inspector and live.state_label.text() == "Open"
    assert not window.inspector.state_label.isVisible() and not window.inspector.composer.isVisible()

    select_row(qtbot, window, 3)
    assert window.inspector.detail.text.toPlainText() == MESSAGES[1]
    assert "#3" in window.inspector.detail.summary.text()

    # the live session receives frames while the stored one is shown: the stored view does not change
    watcher = FlushWatcher(window)
    pusher.push(5)
    watcher.wait_for(qtbot, live_before + 5)
    assert window.inspector.model.rowCount() == 8
    assert all_rows(window) == recorded
    assert window.inspector.counts.text() == "frames: 8  (↓ 4  ↑ 4)"
    assert window.inspector.timeline.currentIndex().row() == 3
    assert not window.inspector.timeline.new_frames.isVisible()

    click(qtbot, window.inspector.back_to_live)
    assert not window.inspector.viewing_bar.isVisible()
    assert window.inspector.model.rowCount() == len(window.session.log) == live_before + 5
    previews = [r["preview"] for r in all_rows(window)]
    assert previews == ["live before", "live before"] + [f"pushed {i}" for i in range(5)]
    assert window.inspector.counts.text() == "frames: 7  (↓ 6  ↑ 1)"
    assert window.inspector.composer.send_button.isEnabled()
    qtmodeltester.check(window.inspector.model)
    # and the live view grows again
    send_and_wait_for_echo(qtbot, window, "live after")
    assert window.inspector.model.rowCount() == live_before + 7


def test_open_button_and_back_to_live_when_disconnected(
    qtbot: Any, window: MainWindow, context: AppContext, qtmodeltester: Any
) -> None:
    first = echo_round(qtbot, window, ["older"])
    second = echo_round(qtbot, window, MESSAGES)
    live_rows = all_rows(window)

    show_tab(qtbot, window, "Sessions")
    click_session(qtbot, window, first)
    click(qtbot, sessions_button(window, "Open"))
    assert window.tabs.currentIndex() == 0
    assert window.inspector.viewing is not None and window.inspector.viewing.session_id == first
    assert [r["preview"] for r in all_rows(window)] == ["older", "older", "1000 (normal closure)",
                                                        "1000 (normal closure)"]
    qtmodeltester.check(window.inspector.model)
    select_row(qtbot, window, 1)
    assert window.inspector.detail.text.toPlainText() == "older"

    # another one opens in a tab of its own
    open_stored(qtbot, window, second)
    assert [r["preview"] for r in all_rows(window)] == _expected_previews()
    # the detail pane shows nothing of the other session: no frame, or the new current one
    current = window.inspector.timeline.currentIndex()
    if current.isValid():
        row = current.row()
        assert window.inspector.detail.text.toPlainText() == (MESSAGES[row // 2] if row < 2 * len(MESSAGES) else "")
    else:
        assert window.inspector.detail.summary.text() == "Select a frame to see its details"

    assert len(window.connection_tabs.pages()) == 3
    click(qtbot, window.inspector.back_to_live)  # closes that tab, back to the live one
    assert len(window.connection_tabs.pages()) == 2
    assert not window.inspector.viewing_bar.isVisible()
    assert all_rows(window) == live_rows
    assert window.inspector.model.rowCount() == len(window.session.log)
    assert not window.inspector.composer.send_button.isEnabled()  # nothing is connected

    # connecting again while a stored session is shown starts the live log without disturbing the view
    open_stored(qtbot, window, first)
    assert window.connection_tabs.live_page.url.text() == context.echo_url
    with qtbot.waitSignal(window.session.opened, timeout=WAIT_MS):
        window.connect_action.trigger()  # Ctrl+K: the live tab's connection
    assert [r["preview"] for r in all_rows(window)] == ["older", "older", "1000 (normal closure)",
                                                        "1000 (normal closure)"]
    assert not window.inspector.composer.send_button.isEnabled()
    click(qtbot, window.inspector.back_to_live)
    assert window.inspector.model.rowCount() == 0
    assert window.inspector.composer.send_button.isEnabled()
    send_and_wait_for_echo(qtbot, window, "fresh")
    qtbot.waitUntil(lambda: window.inspector.counts.text() == "frames: 2  (↓ 1  ↑ 1)", timeout=WAIT_MS)
