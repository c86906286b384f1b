"""The throttle that folds bursts of calls: redraws, typed filters."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from wsinspector.app.throttle import Throttle


def test_a_burst_runs_once_at_once_and_once_at_the_end(qtbot: QtBot) -> None:
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), 60_000, "burst")
    throttle()
    assert calls == [1]  # after a quiet interval a call runs at once
    for _ in range(100):
        throttle()
    assert calls == [1]  # the rest wait for the interval's end, folded into one
    assert throttle.pending
    throttle.flush()
    assert calls == [1, 1]
    assert not throttle.pending
    throttle.flush()
    assert calls == [1, 1]  # nothing waits any more


def test_a_waiting_call_runs_by_itself(qtbot: QtBot) -> None:
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), 20, "redraw")
    throttle()
    throttle()
    throttle()
    qtbot.waitUntil(lambda: len(calls) == 2)
    assert not throttle.pending


def test_without_leading_every_call_waits(qtbot: QtBot) -> None:
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), 20, "typing", leading=False)
    for _ in range(10):
        throttle()
    assert calls == []
    qtbot.waitUntil(lambda: calls == [1])
    throttle()
    assert calls == [1]  # still waits after a run
    qtbot.waitUntil(lambda: calls == [1, 1])


def test_cancel_drops_the_waiting_call(qtbot: QtBot) -> None:
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), 60_000, "cancelled", leading=False)
    throttle()
    throttle.cancel()
    assert not throttle.pending
    throttle.flush()
    assert calls == []


def test_the_timer_carries_the_name(qtbot: QtBot) -> None:
    from PySide6.QtCore import QTimer

    throttle = Throttle(lambda: None, 60_000, "latencyGraphRedraw", leading=False)
    throttle()
    timers = throttle.findChildren(QTimer)
    assert [t.objectName() for t in timers] == ["latencyGraphRedraw"]
    throttle.cancel()
