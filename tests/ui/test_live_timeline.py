"""The live timeline under traffic: following the newest frame, the "N new frames" button, the status bar's
frame counts and rates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.helpers import WAIT_MS, click, close_connection, connect
from tests.ui.helpers_sessions import FloodPeer, select_peer, send_texts, wait_total
from wsinspector.ui.main_window import MainWindow

_SIZE = r"(\d+(?:\.\d)? (?:B|KiB|MiB|GiB))"
#: "↓ 1,234 fr/s 56.7 KiB/s   ↑ 0 fr/s 0 B/s"
RATES = re.compile(rf"↓ ([\d,]+) fr/s {_SIZE}/s {{3}}↑ ([\d,]+) fr/s {_SIZE}/s")


@pytest.fixture
def flood_peer() -> Iterator[FloodPeer]:
    peer = FloodPeer()
    yield peer
    peer.stop()


def _at_bottom(window: MainWindow) -> bool:
    bar = window.inspector.timeline.verticalScrollBar()
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def _last_row_visible(window: MainWindow) -> bool:
    view = window.inspector.timeline
    last = window.inspector.model.rowCount() - 1
    rect = view.visualRect(window.inspector.model.index(last, 0))
    return rect.isValid() and view.viewport().rect().contains(rect.center())


def test_follows_new_frames_until_the_user_scrolls_up(qtbot: Any, window: MainWindow) -> None:
    view = window.inspector.timeline
    bar = view.verticalScrollBar()
    connect(qtbot, window)
    send_texts(qtbot, window, [f"message {i}" for i in range(100)])
    assert window.inspector.model.rowCount() == 200
    assert view.following
    assert _at_bottom(window) and _last_row_visible(window)
    assert not view.new_frames.isVisible()

    # more frames while following: still at the bottom
    send_texts(qtbot, window, [f"more {i}" for i in range(30)])
    assert _at_bottom(window) and _last_row_visible(window)
    assert not view.new_frames.isVisible()

    # the user scrolls up: new frames no longer move the view, a button counts them
    view.scrollToTop()
    assert bar.value() == 0
    first_shown = view.rowAt(0)
    send_texts(qtbot, window, [f"unseen {i}" for i in range(10)])
    assert bar.value() == 0 and view.rowAt(0) == first_shown
    assert not view.following
    assert view.new_frames.isVisible()
    assert view.new_frames.text() == "↓ 20 new frames"
    assert view.viewport().rect().contains(view.new_frames.geometry())
    send_texts(qtbot, window, ["one more"])
    assert view.new_frames.text() == "↓ 22 new frames"
    assert bar.value() == 0

    # the button jumps to the newest frame and follows again
    click(qtbot, view.new_frames)
    assert _at_bottom(window) and _last_row_visible(window)
    assert not view.new_frames.isVisible()
    assert view.following
    send_texts(qtbot, window, [f"after {i}" for i in range(10)])
    assert _at_bottom(window) and _last_row_visible(window)
    assert not view.new_frames.isVisible()

    # scrolling back down by hand also dismisses the button
    view.scrollToTop()
    send_texts(qtbot, window, ["x"])
    assert view.new_frames.isVisible() and view.new_frames.text() == "↓ 2 new frames"
    view.scrollToBottom()
    assert not view.new_frames.isVisible()
    close_connection(qtbot, window)


def test_one_new_frame_is_singular(qtbot: Any, window: MainWindow, flood_peer: FloodPeer) -> None:
    view = window.inspector.timeline
    select_peer(window, flood_peer.listen(), "Pusher")
    connect(qtbot, window)
    flood_peer.wait_client(qtbot)
    flood_peer.push(100)
    wait_total(qtbot, window, 100)
    assert _at_bottom(window)
    view.scrollToTop()
    flood_peer.push(1)
    wait_total(qtbot, window, 101)
    assert view.new_frames.isVisible() and view.new_frames.text() == "↓ 1 new frame"
    close_connection(qtbot, window)


def test_counts_and_rates_follow_a_flood(qtbot: Any, window: MainWindow, flood_peer: FloodPeer) -> None:
    select_peer(window, flood_peer.listen(), "Flood")
    connect(qtbot, window)
    flood_peer.wait_client(qtbot)
    assert window.inspector.counts.text() == "frames: 0  (↓ 0  ↑ 0)"

    flood_peer.start_flood()

    def incoming_rate() -> int:
        match = RATES.fullmatch(window.inspector.rates.text())
        return int(match.group(1).replace(",", "")) if match else 0

    qtbot.waitUntil(lambda: incoming_rate() > 0, timeout=WAIT_MS)
    match = RATES.fullmatch(window.inspector.rates.text())
    assert match is not None, window.inspector.rates.text()
    assert match.group(2) != "0 B", window.inspector.rates.text()
    flood_peer.stop_flood()
    pushed = flood_peer.sent
    assert pushed > 0

    # we send too: the echoes count in, our messages out
    send_texts(qtbot, window, [f"mine {i}" for i in range(25)], wait=False)
    total = pushed + 50
    wait_total(qtbot, window, total)
    assert window.inspector.counts.text() == f"frames: {total:,}  (↓ {pushed + 25:,}  ↑ 25)"
    assert window.inspector.model.rowCount() == total

    # once nothing flows, the rates drop to zero
    rates = window.inspector.rates
    qtbot.waitUntil(lambda: rates.text().startswith("↓ 0 fr/s 0 B/s   ↑ 0 fr/s 0 B/s"), timeout=WAIT_MS)
    close_connection(qtbot, window)
    # our close frame out, the server's answer in
    assert window.inspector.counts.text() == f"frames: {total + 2:,}  (↓ {pushed + 26:,}  ↑ 26)"
