"""Go to a time: the "Go to s" field selects the first frame at or after that many seconds into the session."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from tests.ui.helpers import WAIT_MS, cell, close_connection, connect, replace_text, send_and_wait_for_echo
from tests.ui.helpers_sessions import open_stored
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_PREVIEW, COL_TIME

MICRO = Decimal("0.000001")


def _record(qtbot: Any, window: MainWindow, count: int = 10) -> list[Decimal]:
    """Messages typed and sent one by one (milliseconds apart); the Time column of every row."""
    connect(qtbot, window)
    for i in range(count):
        send_and_wait_for_echo(qtbot, window, f"tick {i}")
    return _times(window)


def _times(window: MainWindow) -> list[Decimal]:
    return [Decimal(cell(window, row, COL_TIME)) for row in range(window.inspector.model.rowCount())]


def _go_to(qtbot: Any, window: MainWindow, text: str) -> None:
    field = window.inspector.filter_bar.jump
    replace_text(qtbot, field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _current_row(window: MainWindow) -> int:
    index = window.inspector.timeline.currentIndex()
    return index.row() if index.isValid() else -1


def _first_at_or_after(times: list[Decimal], target: Decimal) -> int:
    return next((row for row, t in enumerate(times) if t >= target), len(times) - 1)


def _between(times: list[Decimal]) -> list[tuple[str, int]]:
    """Times typed halfway between two frames at least 0.1 ms apart, with the row each should select."""
    picks = []
    for row in range(1, len(times)):
        if times[row] - times[row - 1] >= Decimal("0.0001"):
            target = ((times[row - 1] + times[row]) / 2).quantize(MICRO)
            picks.append((str(target), row))
    return picks


def test_go_to_a_time_between_frames(qtbot: Any, window: MainWindow) -> None:
    times = _record(qtbot, window)
    picks = _between(times)
    assert len(picks) >= 5, times
    bar = window.inspector.filter_bar
    for text, row in picks:
        assert _first_at_or_after(times, Decimal(text)) == row
        _go_to(qtbot, window, text)
        assert _current_row(window) == row, (text, times)
        assert bar.error.isHidden()
        assert window.inspector.detail.text.toPlainText() == cell(window, row, COL_PREVIEW)

    _go_to(qtbot, window, "0")
    assert _current_row(window) == 0
    _go_to(qtbot, window, "1000 s")  # after the last frame: the last one
    assert _current_row(window) == len(times) - 1

    _go_to(qtbot, window, "abc")
    assert bar.error.isVisible() and bar.error.text() == "Not a time in seconds: 'abc'"
    assert _current_row(window) == len(times) - 1  # nothing moved
    _go_to(qtbot, window, "-1")
    assert bar.error.isVisible() and bar.error.text() == "Times start at 0 s"
    assert _current_row(window) == len(times) - 1
    text, row = picks[0]
    _go_to(qtbot, window, text)
    assert bar.error.isHidden()
    assert _current_row(window) == row

    # the same times select the same frames in the stored session
    session_id = window.session.session_id
    assert session_id is not None
    close_connection(qtbot, window)
    open_stored(qtbot, window, session_id)
    bar = window.inspector.filter_bar  # the stored session's tab has its own
    # the stored session ends with the two close frames: ours and the echo's answer
    qtbot.waitUntil(lambda: window.inspector.model.rowCount() == len(times) + 2, timeout=WAIT_MS)
    assert [cell(window, row, COL_PREVIEW) for row in (len(times), len(times) + 1)] == ["1000 (normal closure)"] * 2
    assert _times(window)[:-2] == times
    for text, row in picks:
        _go_to(qtbot, window, text)
        assert _current_row(window) == row, text
    _go_to(qtbot, window, "1000")
    assert _current_row(window) == len(times) + 1  # the echo's close frame, the last one
    _go_to(qtbot, window, "x1")
    assert bar.error.text() == "Not a time in seconds: 'x1'"


def test_go_to_the_time_shown_for_a_frame_selects_that_frame(qtbot: Any, window: MainWindow) -> None:
    """Typing exactly the time the Time column shows for a frame selects that frame (the first frame shown
    with that time), not the next one."""
    times = _record(qtbot, window)
    wrong = []
    for row in range(len(times)):
        if row and times[row] == times[row - 1]:
            continue  # the same time shown twice: the first of them is meant
        _go_to(qtbot, window, str(times[row]))
        if _current_row(window) != row:
            wrong.append((str(times[row]), row, _current_row(window)))
    assert not wrong, f"(typed time, row showing it, row selected): {wrong}"
