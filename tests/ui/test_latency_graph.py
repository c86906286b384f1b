"""The latency graph: statistics of the chosen window, throttled redraws, markers, data in the curves, palette."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pyqtgraph import InfiniteLine
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication

from wsinspector.core.latency import RttStats, rtt_stats
from wsinspector.ui.latency_graph import WINDOWS, LatencyGraph

WAIT_MS = 5000


@pytest.fixture
def graph(qtbot: Any) -> Iterator[LatencyGraph]:
    widget = LatencyGraph()
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    with qtbot.waitExposed(widget):
        widget.show()
    yield widget
    widget.stop()


def wait_redraw(qtbot: Any, graph: LatencyGraph) -> None:
    """Wait for the next timer-driven redraw (something must have changed)."""
    before = graph.redraw_count
    qtbot.waitUntil(lambda: graph.redraw_count > before, timeout=WAIT_MS)


def expected_label(name: str, stats: RttStats | None) -> str:
    if stats is None:
        return f"window: {name} · no samples"
    values = [stats.min_ms, stats.p50_ms, stats.p95_ms, stats.p99_ms, stats.max_ms, stats.jitter_ms]
    mn, p50, p95, p99, mx, jitter = (f"{v:,.2f}" for v in values)
    return (f"window: {name} · n={stats.count:,} · min {mn} · p50 {p50} · p95 {p95} · p99 {p99} · max {mx} · "
            f"jitter {jitter} ms")


def same_stats(actual: RttStats | None, expected: RttStats | None) -> bool:
    """Equal to what ``rtt_stats`` gives: exactly, but the jitter (a difference of running sums) to rounding."""
    if actual is None or expected is None:
        return actual is expected
    return (dataclasses.replace(actual, jitter_ms=0.0) == dataclasses.replace(expected, jitter_ms=0.0)
            and actual.jitter_ms == pytest.approx(expected.jitter_ms, rel=1e-9, abs=1e-12))


def marker_items(graph: LatencyGraph) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for item in graph.rtt_plot.items:
        if isinstance(item, InfiniteLine):
            found.setdefault(item.kind, []).append(item)
    return found


def test_stats_match_rtt_stats_for_each_window(qtbot: Any, graph: LatencyGraph) -> None:
    assert graph.stats() is None
    assert graph.stats_label.text() == "window: last 1 min · no samples"
    rng = np.random.default_rng(7)
    t = np.arange(0, 7300, 0.5)  # two hours and more, a sample every 500 ms
    rtt = rng.gamma(2.0, 15.0, len(t)) + np.where(rng.random(len(t)) < 0.01, 400.0, 0.0)
    graph.add_rtts(t, rtt)
    newest = float(t[-1])
    seen_counts = set()
    for index, (text, seconds) in enumerate(WINDOWS):
        graph.window_combo.setCurrentIndex(index)
        inside = rtt.tolist() if seconds is None else [v for s, v in zip(t.tolist(), rtt.tolist(), strict=True)
                                                         if s >= newest - seconds]
        expected = rtt_stats(inside)
        assert expected is not None
        seen_counts.add(expected.count)
        label = expected_label(text.lower(), expected)
        qtbot.waitUntil(lambda label=label: graph.stats_label.text() == label, timeout=WAIT_MS)
        assert same_stats(graph.stats(), expected)
    assert seen_counts == {21, 121, 601, 7201, len(t)}


def test_window_ends_at_the_newest_data(qtbot: Any, graph: LatencyGraph) -> None:
    graph.window_combo.setCurrentIndex(0)  # last 10 s
    graph.add_rtts([0.0, 5.0, 12.0, 20.0], [10.0, 20.0, 30.0, 40.0])
    assert same_stats(graph.stats(), rtt_stats([30.0, 40.0]))
    graph.add_rates(25.0, 1, 1, 100, 100)  # the session goes on without RTTs
    assert same_stats(graph.stats(), rtt_stats([40.0]))
    graph.add_marker(40.0, "disconnect")
    assert graph.stats() is None
    qtbot.waitUntil(lambda: graph.stats_label.text() == "window: last 10 s · no samples", timeout=WAIT_MS)


def test_stats_stay_right_as_data_comes_and_the_window_slides(qtbot: Any, graph: LatencyGraph) -> None:
    rng = np.random.default_rng(3)
    times: list[float] = []
    rtts: list[float] = []
    now = 0.0
    newest = None
    for step in range(300):
        if step % 50 == 0:
            graph.window_combo.setCurrentIndex(step // 50 % len(WINDOWS))
        count = int(rng.integers(0, 40))
        t = now + np.sort(rng.random(count)) * 3.0
        rtt = np.round(rng.gamma(2.0, 10.0, count))  # whole ms: many equal values come and go
        graph.add_rtts(t, rtt)
        times += t.tolist()
        rtts += rtt.tolist()
        if count:
            newest = times[-1]
        now += 3.0
        if step % 7 == 0:
            now += 20.0
            graph.add_rates(now, 1, 1, 1, 1)  # the window may end after the newest RTT
            newest = now
        assert graph.newest_time() == newest
        seconds = graph.window_seconds
        inside = [v for s, v in zip(times, rtts, strict=True) if seconds is None or s >= newest - seconds]
        assert same_stats(graph.stats(), rtt_stats(inside)), step
    assert graph.sample_count == len(times)


def test_many_small_appends_make_few_redraws(qtbot: Any, graph: LatencyGraph) -> None:
    # the one after showing (it may have come already, while the window was being exposed)
    qtbot.waitUntil(lambda: graph.redraw_count >= 1, timeout=WAIT_MS)
    start = graph.redraw_count
    calls = 1000
    app = QApplication.instance()
    for i in range(calls):
        t = np.arange(i * 10, i * 10 + 10) * 0.001
        graph.add_rtts(t, t * 0 + 20.0 + i % 7)
        app.processEvents()  # the event loop runs between appends, as it does live
    qtbot.waitUntil(lambda: graph.rtt_curve.xData is not None and len(graph.rtt_curve.xData) == 10_000,
                    timeout=WAIT_MS)
    redraws = graph.redraw_count - start
    assert graph.sample_count == 10_000
    assert 1 <= redraws <= calls // 10, redraws


def test_markers_appear_by_kind(qtbot: Any, graph: LatencyGraph) -> None:
    graph.add_rtts([0.0, 1.0, 2.0, 3.0], [5.0, 6.0, 7.0, 8.0])
    for t in (0.5, 1.5, 2.5):
        graph.add_marker(t, "disconnect", "1006 abnormal closure")
    graph.add_marker(0.7, "reconnect", "attempt 1")
    graph.add_marker(1.7, "reconnect")
    graph.add_marker(2.9, "timeout", "no pong in 5 s")
    with pytest.raises(ValueError, match="unknown marker kind"):
        graph.add_marker(3.0, "explosion")
    found = marker_items(graph)
    assert {kind: len(items) for kind, items in found.items()} == {"disconnect": 3, "reconnect": 2, "timeout": 1}
    assert [item.value() for item in found["disconnect"]] == [0.5, 1.5, 2.5]
    assert found["timeout"][0].toolTip() == "timeout at 2.900 s: no pong in 5 s"
    assert found["reconnect"][1].toolTip() == "reconnect at 1.700 s"
    assert graph.markers("reconnect") == [(0.7, "reconnect", "attempt 1"), (1.7, "reconnect", "")]
    red, green = found["disconnect"][0].pen.color(), found["reconnect"][0].pen.color()
    assert red.red() > red.green() and green.green() > green.red()
    assert all(item.isVisible() and item.scene() is graph.graphics.scene() for items in found.values()
               for item in items)


def test_curve_data_equals_what_was_added(qtbot: Any, graph: LatencyGraph) -> None:
    graph.window_combo.setCurrentIndex(len(WINDOWS) - 1)  # whole session: everything in view
    t = np.linspace(0.0, 50.0, 200)
    rtt = 10 + np.sin(t)
    graph.add_rtts(t[:120].tolist(), rtt[:120].tolist())
    graph.add_rtts(t[120:], rtt[120:])
    for second in range(51):
        graph.add_rates(float(second), second, 2 * second, 1024 * second, 2048.0)
    wait_redraw(qtbot, graph)
    x, y = graph.rtt_curve.getData()
    np.testing.assert_array_equal(x, t)
    np.testing.assert_array_equal(y, rtt)
    seconds = np.arange(51, dtype=float)
    curves = [graph.frames_in_curve, graph.frames_out_curve, graph.bytes_in_curve, graph.bytes_out_curve]
    for curve, expected in zip(curves, [seconds, 2 * seconds, seconds, seconds * 0 + 2.0], strict=True):
        x, y = curve.getData()
        np.testing.assert_array_equal(x, seconds)
        np.testing.assert_array_equal(y, expected)  # bytes/s drawn in KiB/s


def test_set_rtts_replaces(qtbot: Any, graph: LatencyGraph) -> None:
    graph.window_combo.setCurrentIndex(len(WINDOWS) - 1)
    graph.add_rtts(np.arange(5000) * 0.01, np.full(5000, 99.0))
    wait_redraw(qtbot, graph)
    graph.set_rtts([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert graph.sample_count == 3
    assert same_stats(graph.stats(), rtt_stats([4.0, 5.0, 6.0]))
    wait_redraw(qtbot, graph)
    x, y = graph.rtt_curve.getData()
    assert x.tolist() == [1.0, 2.0, 3.0]
    assert y.tolist() == [4.0, 5.0, 6.0]
    assert "n=3 ·" in graph.stats_label.text()
    graph.set_rtts([], [])
    assert graph.sample_count == 0
    assert graph.stats() is None


def test_clear_empties(qtbot: Any, graph: LatencyGraph) -> None:
    graph.add_rtts([0.0, 1.0, 2.0], [5.0, 6.0, 7.0])
    graph.add_marker(1.5, "disconnect")
    graph.add_marker(1.8, "timeout")
    graph.add_rates(1.0, 3, 4, 500, 600)
    wait_redraw(qtbot, graph)
    assert graph.stats() is not None
    graph.clear()
    assert graph.sample_count == 0
    assert graph.stats() is None
    assert marker_items(graph) == {}
    assert graph.markers() == []
    wait_redraw(qtbot, graph)
    assert graph.stats_label.text() == "window: last 1 min · no samples"
    for curve in (graph.rtt_curve, graph.frames_in_curve, graph.frames_out_curve, graph.bytes_in_curve,
                  graph.bytes_out_curve):
        x, _ = curve.getData()
        assert x is None or len(x) == 0
    graph.add_rtts([3.0], [1.0])  # still usable
    assert graph.sample_count == 1


def _palette(background: str, text: str) -> QPalette:
    palette = QPalette()
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base, QPalette.ColorRole.Button):
        palette.setColor(role, QColor(background))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(role, QColor(text))
    return palette


def test_colours_follow_the_palette(qtbot: Any, graph: LatencyGraph) -> None:
    graph.add_rtts([0.0, 1.0], [5.0, 6.0])
    graph.add_marker(0.5, "reconnect")
    graph.setPalette(_palette("#1e1e1e", "#e6e6e6"))
    assert graph.plot_background().lightnessF() < 0.2
    axis = graph.rtt_plot.getAxis("left")
    assert axis.textPen().color().lightnessF() > 0.8
    assert graph.rtt_curve.opts["pen"].color().lightnessF() > 0.5  # a curve stands out on the dark background
    assert marker_items(graph)["reconnect"][0].pen.color().lightnessF() > 0.5
    graph.setPalette(_palette("#ffffff", "#202020"))
    assert graph.plot_background().lightnessF() > 0.9
    assert axis.textPen().color().lightnessF() < 0.2
    assert graph.rtt_curve.opts["pen"].color().lightnessF() < 0.5


def test_follow_keeps_the_newest_data_in_view_until_the_user_zooms(qtbot: Any, graph: LatencyGraph) -> None:
    graph.window_combo.setCurrentIndex(0)  # last 10 s
    graph.add_rtts(np.arange(0, 100, 0.1), np.full(1000, 20.0))
    wait_redraw(qtbot, graph)
    left, right = graph.rtt_plot.vb.viewRange()[0]
    assert left == pytest.approx(89.9, abs=0.5) and right == pytest.approx(100.1, abs=0.5)
    graph.add_rtts([150.0], [25.0])
    wait_redraw(qtbot, graph)
    assert graph.rtt_plot.vb.viewRange()[0][1] == pytest.approx(150.2, abs=0.5)
    # the rates plot shares the time axis
    assert graph.rates_plot.vb.viewRange()[0] == pytest.approx(graph.rtt_plot.vb.viewRange()[0])

    viewport = graph.graphics.viewport()
    centre = graph.graphics.mapFromScene(graph.rtt_plot.vb.sceneBoundingRect().center())
    wheel = QWheelEvent(QPointF(centre), QPointF(viewport.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert not graph.follow_box.isChecked()
    zoomed = graph.rtt_plot.vb.viewRange()[0]
    graph.add_rtts([200.0], [30.0])
    wait_redraw(qtbot, graph)
    assert graph.rtt_plot.vb.viewRange()[0] == pytest.approx(zoomed)  # left where the user put it
    graph.follow_box.setChecked(True)
    wait_redraw(qtbot, graph)
    assert graph.rtt_plot.vb.viewRange()[0][1] == pytest.approx(200.2, abs=0.5)


def test_no_active_timer_after_stop(qtbot: Any, graph: LatencyGraph) -> None:
    timers = graph.findChildren(QTimer)
    graph.add_rtts([0.0], [1.0])
    assert any(timer.isActive() for timer in timers)
    graph.stop()
    assert not any(timer.isActive() for timer in graph.findChildren(QTimer))
    graph.add_rtts([1.0], [2.0])  # data after stop() is kept, but arms no timer
    assert not any(timer.isActive() for timer in graph.findChildren(QTimer))
    assert graph.sample_count == 2
    graph.redraw()
    assert graph.rtt_curve.getData()[0].tolist() == [0.0, 1.0]


def test_hidden_graph_keeps_no_timer(qtbot: Any, graph: LatencyGraph) -> None:
    graph.hide()
    graph.add_rtts([0.0, 1.0], [1.0, 2.0])
    assert not any(timer.isActive() for timer in graph.findChildren(QTimer))
    assert same_stats(graph.stats(), rtt_stats([1.0, 2.0]))
    graph.show()
    qtbot.waitUntil(lambda: graph.rtt_curve.xData is not None and len(graph.rtt_curve.xData) == 2, timeout=WAIT_MS)


def test_the_rtt_line_breaks_at_an_outage(qtbot: Any, graph: LatencyGraph) -> None:
    graph.window_combo.setCurrentIndex(len(WINDOWS) - 1)
    before = np.arange(0.0, 5.0, 0.5)  # a ping every 0.5 s, then the link drops at 5.2 s
    after = np.arange(20.0, 25.0, 0.5)  # back after the reconnect
    graph.add_rtts(before, np.full(len(before), 10.0))
    graph.add_marker(5.2, "disconnect", "lost")
    graph.add_marker(19.9, "reconnect", "back")
    graph.add_rtts(after, np.full(len(after), 30.0))
    graph.add_rtts([60.0], [12.0])  # a long silence with no marker breaks it too
    for t_s in (*before, 5.1, *after):  # the rates fall to zero as the link closes, and start again after it
        graph.add_rates(t_s, 0.0 if t_s == 5.1 else 2.0, 2.0, 100.0, 100.0)
    wait_redraw(qtbot, graph)
    rates_x, rates_y = graph.frames_in_curve.getData()
    assert np.flatnonzero(np.isnan(rates_y)).tolist() == [len(before) + 1]  # no ramp from 0 across the outage
    assert (rates_x[len(before)], rates_y[len(before)]) == (5.1, 0.0)
    assert graph.frames_in_curve.opts["connect"] == "finite"
    x, y = graph.rtt_curve.getData()
    assert graph.rtt_curve.opts["connect"] == "finite"  # a NaN is a gap in the line, not a point
    gaps = np.flatnonzero(np.isnan(y)).tolist()
    assert gaps == [len(before), len(before) + len(after) + 1]
    assert x[gaps[0] - 1] == 4.5 and x[gaps[0] + 1] == 20.0  # nothing drawn from 4.5 s to 20 s
    np.testing.assert_array_equal(y[np.isfinite(y)], np.r_[np.full(10, 10.0), np.full(10, 30.0), 12.0])
    assert graph.sample_count == 21  # the statistics count samples, not gaps
    assert graph.stats() is not None and graph.stats().max_ms == 30.0


def test_a_steady_line_is_not_broken(qtbot: Any, graph: LatencyGraph) -> None:
    graph.add_rtts(np.arange(0.0, 30.0, 3.0), np.full(10, 5.0))  # slow but steady pings: no outage
    graph.add_marker(12.0, "reconnect", "a reconnect is no outage in itself")
    wait_redraw(qtbot, graph)
    _, y = graph.rtt_curve.getData()
    assert not np.isnan(y).any()


def test_axes_say_their_units_plainly_and_the_legend_covers_no_data(qtbot: Any, graph: LatencyGraph) -> None:
    graph.resize(800, 500)
    graph.add_rtts([0.0, 1.0], [0.0004, 0.0009])  # sub-microsecond RTTs: no "(µms)" nor "x1e-3"
    graph.add_rates(1.0, 1.0, 1.0, 5_000_000.0, 1.0)
    wait_redraw(qtbot, graph)
    axes = [graph.rtt_plot.getAxis("left"), graph.rates_plot.getAxis("left"), graph.rates_plot.getAxis("right"),
            graph.rates_plot.getAxis("bottom")]
    labels = [axis.labelString() for axis in axes]
    texts = " ".join(labels)
    assert all(axis.autoSIPrefixScale == 1.0 for axis in axes)  # values are drawn as they are, not x1000
    assert "RTT (ms)" in texts and "frames/s" in texts and "KiB/s" in texts and "(s)" in texts
    assert "µ" not in texts and "(x" not in texts and "(ks)" not in texts and "(M" not in texts
    legend = graph.legend.sceneBoundingRect()
    for view in (graph.rtt_plot.vb, graph.rates_plot.vb):
        assert not legend.intersects(view.sceneBoundingRect())
    assert [label.text for _sample, label in graph.legend.items] == ["frames/s in", "frames/s out", "KiB/s in",
                                                                      "KiB/s out"]
