"""The live latency graph: RTT samples with connection events above, frame and byte rates below.

Samples live in growable numpy arrays (appending is amortised O(1)); the plots are redrawn at most about
15 times a second by one single-shot timer, however often data arrives, and only while the widget is shown.
Both plots share the time axis: seconds since the session began.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QHideEvent, QPalette, QShowEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from wsinspector.app.throttle import Throttle
from wsinspector.core.events import EVENT_KINDS
from wsinspector.core.latency import RttStats, percentile

REDRAW_MS = 66  # about 15 redraws a second at most
AXIS_WIDTH = 64

#: (combo text, seconds or None for the whole session)
WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("Last 10 s", 10.0),
    ("Last 1 min", 60.0),
    ("Last 5 min", 300.0),
    ("Last 1 h", 3600.0),
    ("Whole session", None),
)
DEFAULT_WINDOW = 1  # "Last 1 min"

MARKER_KINDS = EVENT_KINDS
#: the events after which no pong came for a while: the RTT line breaks there
OUTAGE_KINDS = ("disconnect", "timeout")
#: a stretch without samples this many times the usual spacing (and at least OUTAGE_MIN_S) breaks it too
GAP_FACTOR = 5.0
OUTAGE_MIN_S = 2.0

# (on a light background, on a dark one)
_COLOURS: dict[str, tuple[str, str]] = {
    "rtt": ("#1f5fa8", "#6ea8ff"),
    "disconnect": ("#c62828", "#ff6b6b"),
    "reconnect": ("#1f7a3d", "#5fd38a"),
    "timeout": ("#b26a00", "#ffb84d"),
    "tls": ("#8c0010", "#ff8a80"),
    "frames_in": ("#1f7a3d", "#5fd38a"),
    "frames_out": ("#1f5fa8", "#6ea8ff"),
    "bytes_in": ("#8e24aa", "#d291ff"),
    "bytes_out": ("#b26a00", "#ffb84d"),
}


def _fmt(value: float) -> str:
    return f"{value:,.2f}"


class _Columns:
    """Parallel float64 columns of one length, grown by doubling."""

    def __init__(self, columns: int, capacity: int = 1024) -> None:
        self._data = [np.empty(capacity, dtype=np.float64) for _ in range(columns)]
        self.size = 0

    def append(self, *values: np.ndarray) -> None:
        count = len(values[0])
        if count == 0:
            return
        end = self.size + count
        capacity = len(self._data[0])
        if end > capacity:
            capacity = max(end, capacity * 2)
            grown = [np.empty(capacity, dtype=np.float64) for _ in self._data]
            for new, old in zip(grown, self._data, strict=True):
                new[: self.size] = old[: self.size]
            self._data = grown
        for column, chunk in zip(self._data, values, strict=True):
            column[self.size : end] = chunk
        self.size = end

    def column(self, index: int) -> np.ndarray:
        """A view of the filled part. Later appends never change it (they write past its end or into a copy)."""
        return self._data[index][: self.size]

    def last(self, index: int) -> float:
        return float(self._data[index][self.size - 1])


def outage_cuts(t: np.ndarray, outages: Sequence[float]) -> np.ndarray:
    """Where a line through the samples at times ``t`` must stop: the indices of the samples after a disconnect
    or a heartbeat timeout (``outages``), or after a silence far longer than the usual spacing."""
    n = len(t)
    if n < 2:
        return np.empty(0, dtype=np.intp)
    spacing = np.diff(t)
    limit = max(OUTAGE_MIN_S, GAP_FACTOR * float(np.median(spacing)))
    cuts = [np.flatnonzero(spacing > limit) + 1]
    if len(outages):
        cuts.append(np.searchsorted(t, np.asarray(outages, dtype=np.float64), side="right"))
    at = np.unique(np.concatenate(cuts))
    return at[(at > 0) & (at < n)]


def broken(t: np.ndarray, v: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples with a NaN before each cut: drawn with ``connect="finite"``, the line stops there instead of
    bridging the outage."""
    if not len(cuts):
        return t, v
    return np.insert(t, cuts, t[cuts - 1]), np.insert(v, cuts, np.nan)


class _Marker(pg.InfiniteLine):
    """A vertical line for a connection event."""

    def __init__(self, t_s: float, kind: str, label: str) -> None:
        super().__init__(pos=t_s, angle=90, movable=False)
        self.kind = kind
        self.event_label = label
        text = f"{kind} at {t_s:.3f} s"
        self.setToolTip(f"{text}: {label}" if label else text)


class _SortedView(Sequence[float]):
    """A sorted numpy array as the sequence ``core.latency.percentile`` reads."""

    def __init__(self, ordered: np.ndarray) -> None:
        self._values = ordered

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: int) -> float:  # type: ignore[override]
        return float(self._values[index])


class RttSeries:
    """RTT samples (time, RTT, and the running sum of |RTT change|) and statistics of a trailing window.

    The RTTs of the window are kept sorted as samples come and the window slides (a merge and a delete per
    update, O(window) memory moves, no sort), so percentiles, min and max are the very values ``rtt_stats`` gives.
    The jitter is the difference of two running sums: equal to ``rtt_stats``'s to within rounding (about 1e-12
    relative).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.columns = _Columns(3, capacity)
        self._sorted = np.empty(0, dtype=np.float64)
        self._first = self._end = 0
        self._seconds: float | None = None
        self._built = False

    @property
    def size(self) -> int:
        return self.columns.size

    def append(self, t: np.ndarray, rtt: np.ndarray) -> None:
        if len(t) == 0:
            return
        n = self.columns.size
        previous = self.columns.last(1) if n else float(rtt[0])
        total = self.columns.last(2) if n else 0.0
        change = total + np.cumsum(np.abs(np.diff(rtt, prepend=previous)))
        self.columns.append(t, rtt, change)

    def window(self, seconds: float | None, newest: float | None) -> tuple[int, int]:
        """Index range of the samples at or after ``newest - seconds`` (all of them for None)."""
        n = self.columns.size
        if seconds is None or newest is None:
            return 0, n
        return int(np.searchsorted(self.columns.column(0), newest - seconds, side="left")), n

    def stats(self, seconds: float | None, newest: float | None) -> RttStats | None:
        first, end = self.window(seconds, newest)
        self._update_sorted(seconds, first, end)
        count = end - first
        if count == 0:
            return None
        ordered = _SortedView(self._sorted)
        change = self.columns.column(2)
        return RttStats(
            count=count,
            min_ms=ordered[0],
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            p99_ms=percentile(ordered, 99),
            max_ms=ordered[count - 1],
            jitter_ms=float(change[end - 1] - change[first]) / (count - 1) if count > 1 else 0.0,
        )

    def _update_sorted(self, seconds: float | None, first: int, end: int) -> None:
        rtt = self.columns.column(1)
        old_first, old_end = self._first, self._end
        leave_end = min(first, old_end)
        enter_start = max(old_end, first)
        moved = (leave_end - old_first) + (end - enter_start)
        if (not self._built or seconds != self._seconds or first < old_first or end < old_end
                or moved > (end - first) // 2):
            self._sorted = np.sort(rtt[first:end])
        else:
            ordered = self._sorted
            if leave_end > old_first:
                leaving = np.sort(rtt[old_first:leave_end])
                # equal values: the k-th of a run of equal leaving values removes the k-th equal kept one
                rank = np.arange(len(leaving)) - np.searchsorted(leaving, leaving, side="left")
                ordered = np.delete(ordered, np.searchsorted(ordered, leaving, side="left") + rank)
            if end > enter_start:
                entering = np.sort(rtt[enter_start:end])
                ordered = np.insert(ordered, np.searchsorted(ordered, entering, side="left"), entering)
            self._sorted = ordered
        self._first, self._end, self._seconds, self._built = first, end, seconds, True


class LatencyGraph(QWidget):
    """RTT over time with disconnect/reconnect/timeout markers, and frames/s and bytes/s in and out.

    ``redraw_count`` counts redraws. ``stop()`` stops the redraw timer and keeps it stopped until the widget is
    shown again; data added meanwhile is kept and drawn then (or by ``redraw()``).
    """

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915
        super().__init__(parent)
        self.setObjectName("latencyGraph")
        self.redraw_count = 0
        self._stopped = False
        self._stats: RttStats | None = None
        self._stats_dirty = True
        self._data_dirty = True
        self._dark = False

        self.window_combo = QComboBox()
        self.window_combo.setObjectName("latencyWindow")
        for text, _seconds in WINDOWS:
            self.window_combo.addItem(text)
        self.window_combo.setCurrentIndex(DEFAULT_WINDOW)
        self.window_combo.setToolTip("The span the statistics cover (and the view shows while following)")
        self.window_combo.currentIndexChanged.connect(self._on_window_changed)
        self.follow_box = QCheckBox("Follow")
        self.follow_box.setObjectName("latencyFollow")
        self.follow_box.setToolTip("Keep the view on the newest data; zooming or panning turns this off")
        self.follow_box.setChecked(True)
        self.follow_box.toggled.connect(self._on_follow_toggled)
        self.stats_label = QLabel()
        self.stats_label.setObjectName("latencyStats")
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("latencyPlots")
        self.rtt_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0)
        self.rates_plot: pg.PlotItem = self.graphics.addPlot(row=2, col=0)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)

        rtt = self.rtt_plot
        rtt.setLabel("left", "RTT (ms)")
        rtt.hideAxis("bottom")
        rtt.showAxis("right")
        rtt.getAxis("right").setStyle(showValues=False)
        self.rtt_curve: pg.PlotDataItem = rtt.plot(name="RTT")

        rates = self.rates_plot
        rates.setXLink(rtt)
        rates.setLabel("left", "frames/s")
        rates.setLabel("right", "KiB/s")
        rates.setLabel("bottom", "time since the session began (s)")
        self.frames_in_curve: pg.PlotDataItem = rates.plot(name="frames/s in")
        self.frames_out_curve: pg.PlotDataItem = rates.plot(name="frames/s out")
        # the legend has a row of its own above the rates: it never covers what they draw
        self.legend = pg.LegendItem(colCount=4, verSpacing=-6)
        self.graphics.addItem(self.legend, row=1, col=0)
        self.graphics.ci.layout.setRowStretchFactor(1, 0)
        for curve in (self.frames_in_curve, self.frames_out_curve):
            self.legend.addItem(curve, curve.name())
        # bytes/s live in a second view box over the same x range, scaled by the right axis
        self.bytes_view = pg.ViewBox()
        rates.scene().addItem(self.bytes_view)
        rates.getAxis("right").linkToView(self.bytes_view)
        self.bytes_view.setXLink(rates)
        rates.vb.sigResized.connect(self._place_bytes_view)
        self.bytes_in_curve = pg.PlotDataItem(name="KiB/s in")
        self.bytes_out_curve = pg.PlotDataItem(name="KiB/s out")
        for curve in (self.bytes_in_curve, self.bytes_out_curve):
            self.bytes_view.addItem(curve)
            self.legend.addItem(curve, curve.name())
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)

        for plot in (rtt, rates):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.getAxis("right").setGrid(False)  # the left axis draws the horizontal grid
            for name in ("left", "right", "bottom"):
                # no third tick level: its dense grid lines cost more to paint than everything else together
                plot.getAxis(name).setStyle(maxTickLevel=1)
                # the labels name their units; values are never rescaled ("x0.001", "(mms)"). In that order:
                # turning the prefix off keeps the scale of that moment (x1000 for a unitless axis's 0..1)
                plot.getAxis(name).setSIPrefixEnableRanges(())
                plot.getAxis(name).enableAutoSIPrefix(False)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.getAxis("right").setWidth(AXIS_WIDTH)
            # y follows the data in view; x is ours while following, the user's otherwise
            plot.vb.setAutoVisible(y=True)
            plot.vb.sigRangeChangedManually.connect(self._on_manual_range)
        self.bytes_view.setAutoVisible(y=True)
        self.bytes_view.sigRangeChangedManually.connect(self._on_manual_range)

        self._markers: list[_Marker] = []
        self._rtts = RttSeries()
        self._rates = _Columns(5)
        self._newest: float | None = None

        self._redraw = Throttle(self.redraw, REDRAW_MS, "latencyGraphRedraw", leading=False, parent=self)

        top = QHBoxLayout()
        top.addWidget(self.stats_label, 1)
        top.addWidget(QLabel("Window:"))
        top.addWidget(self.window_combo)
        top.addWidget(self.follow_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self._apply_palette()
        self._update_label()

    # -- data ------------------------------------------------------------------------------------------

    @property
    def sample_count(self) -> int:
        return self._rtts.size

    def clear(self) -> None:
        # new arrays: the curves may still hold views of the old ones until the next redraw
        self._rtts = RttSeries()
        self._rates = _Columns(5)
        self._newest = None
        for marker in self._markers:
            self.rtt_plot.removeItem(marker)
        self._markers.clear()
        self._changed()

    def add_rtts(self, t_s: Sequence[float] | np.ndarray, rtt_ms: Sequence[float] | np.ndarray) -> None:
        """Append RTT samples: seconds since the session began (ascending, not before earlier samples), in ms."""
        t = np.asarray(t_s, dtype=np.float64).ravel()
        v = np.asarray(rtt_ms, dtype=np.float64).ravel()
        if len(t) != len(v):
            raise ValueError(f"{len(t)} times but {len(v)} RTTs")
        if len(t) == 0:
            return
        if not (np.isfinite(t).all() and np.isfinite(v).all()):
            raise ValueError("times and RTTs must be finite numbers")
        self._rtts.append(t, v)
        self._saw(float(t[-1]))

    def set_rtts(self, t_s: Sequence[float] | np.ndarray, rtt_ms: Sequence[float] | np.ndarray) -> None:
        """Replace every RTT sample (markers and rates stay)."""
        self._rtts = RttSeries(capacity=max(1024, len(t_s)))
        times = [m.value() for m in self._markers]
        if self._rates.size:
            times.append(self._rates.last(0))
        self._newest = max(times) if times else None
        self.add_rtts(t_s, rtt_ms)
        self._changed()

    def add_marker(self, t_s: float, kind: str, label: str = "") -> None:
        if kind not in MARKER_KINDS:
            raise ValueError(f"unknown marker kind {kind!r} (expected one of {', '.join(MARKER_KINDS)})")
        marker = _Marker(float(t_s), kind, label)
        marker.setPen(pg.mkPen(self._colour(kind), width=1))
        self._markers.append(marker)
        self.rtt_plot.addItem(marker, ignoreBounds=True)
        self._saw(marker.value())

    def add_rates(self, t_s: float, frames_in: float, frames_out: float, bytes_in: float, bytes_out: float) -> None:
        """One rate sample; bytes are given per second and drawn in KiB/s."""
        self._rates.append(*(np.array([value], dtype=np.float64)
                             for value in (t_s, frames_in, frames_out, bytes_in / 1024, bytes_out / 1024)))
        self._saw(float(t_s))

    def _saw(self, t_s: float) -> None:
        self._newest = t_s if self._newest is None else max(self._newest, t_s)
        self._changed()

    def markers(self, kind: str | None = None) -> list[tuple[float, str, str]]:
        """(time, kind, label) of the markers (of one kind), in the order added."""
        return [(m.value(), m.kind, m.event_label) for m in self._markers if kind is None or m.kind == kind]

    # -- statistics ------------------------------------------------------------------------------------

    @property
    def window_seconds(self) -> float | None:
        return WINDOWS[self.window_combo.currentIndex()][1]

    def newest_time(self) -> float | None:
        """The latest time any data (RTT, rate or marker) was given for: the window of the statistics ends there."""
        return self._newest

    def stats(self) -> RttStats | None:
        """Statistics of the RTTs in the selected window (what the label shows)."""
        if self._stats_dirty:
            self._stats = self._rtts.stats(self.window_seconds, self._newest)
            self._stats_dirty = False
        return self._stats

    def _update_label(self) -> None:
        name = self.window_combo.currentText().lower()
        stats = self.stats()
        if stats is None:
            self.stats_label.setText(f"window: {name} · no samples")
            return
        self.stats_label.setText(
            f"window: {name} · n={stats.count:,} · min {_fmt(stats.min_ms)} · p50 {_fmt(stats.p50_ms)} · "
            f"p95 {_fmt(stats.p95_ms)} · p99 {_fmt(stats.p99_ms)} · max {_fmt(stats.max_ms)} · "
            f"jitter {_fmt(stats.jitter_ms)} ms"
        )

    # -- redraws ---------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._stats_dirty = True
        self._data_dirty = True
        self._schedule()

    def _schedule(self) -> None:
        if not self._stopped and self.isVisible():
            self._redraw()

    def stop(self) -> None:
        """Stop the redraw timer; it stays stopped until the widget is shown again."""
        self._stopped = True
        self._redraw.cancel()

    @Slot()
    def redraw(self) -> None:
        """Put the data into the curves, follow the newest data if asked, update the statistics line."""
        self._redraw.cancel()
        self.redraw_count += 1
        if self._data_dirty:
            self._data_dirty = False
            rtts = self._rtts.columns
            outages = [m.value() for m in self._markers if m.kind in OUTAGE_KINDS]
            rtt_t = rtts.column(0)
            self.rtt_curve.setData(*broken(rtt_t, rtts.column(1), outage_cuts(rtt_t, outages)), connect="finite")
            rt = self._rates.column(0)
            cuts = outage_cuts(rt, outages)  # the rates fall to zero at a disconnect, and start again after it
            for index, curve in enumerate((self.frames_in_curve, self.frames_out_curve,
                                           self.bytes_in_curve, self.bytes_out_curve), start=1):
                curve.setData(*broken(rt, self._rates.column(index), cuts), connect="finite")
        if self.follow_box.isChecked():
            self._follow()
        self._update_label()

    def _follow(self) -> None:
        newest = self.newest_time()
        if newest is None:
            return
        seconds = self.window_seconds
        starts = [float(t[0]) for t in (self._rtts.columns.column(0)[:1], self._rates.column(0)[:1]) if len(t)]
        starts += [m.value() for m in self._markers]
        start = min(starts) if seconds is None else newest - seconds
        if seconds is not None and starts:
            start = max(start, min(0.0, *starts))  # a young session: no stretch of negative time
        end = newest if newest > start else start + 1.0
        self.rtt_plot.setXRange(start, end, padding=0.02)
        for view in (self.rtt_plot.vb, self.rates_plot.vb, self.bytes_view):
            view.enableAutoRange(axis=pg.ViewBox.YAxis)

    @Slot()
    def _on_window_changed(self) -> None:
        self._stats_dirty = True
        self._update_label()
        self._schedule()

    @Slot(bool)
    def _on_follow_toggled(self, on: bool) -> None:
        if on:
            self._schedule()

    def _on_manual_range(self, *_: object) -> None:
        self.follow_box.setChecked(False)

    def _place_bytes_view(self) -> None:
        self.bytes_view.setGeometry(self.rates_plot.vb.sceneBoundingRect())
        self.bytes_view.linkedViewChanged(self.rates_plot.vb, self.bytes_view.XAxis)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._stopped = False
        self._redraw()  # draw what came while hidden

    def hideEvent(self, event: QHideEvent) -> None:
        self._redraw.cancel()
        super().hideEvent(event)

    # -- palette ---------------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _colour(self, name: str) -> QColor:
        return QColor(_COLOURS[name][1 if self._dark else 0])

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self._dark = background.lightnessF() < 0.5
        self.graphics.setBackground(background)
        for plot in (self.rtt_plot, self.rates_plot):
            for name in ("left", "right", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(text))
                axis.setTextPen(pg.mkPen(text))
                if axis.labelText:
                    axis.setLabel(axis.labelText, axis.labelUnits, color=text.name())
        self.legend.setLabelTextColor(text)
        for _sample, label in self.legend.items:
            label.setText(label.text)  # setLabelTextColor() only applies at the next setText()
        legend_background = QColor(background)
        legend_background.setAlpha(170)
        self.legend.setBrush(pg.mkBrush(legend_background))
        self.rtt_curve.setPen(pg.mkPen(self._colour("rtt"), width=1))
        for name, curve in (("frames_in", self.frames_in_curve), ("frames_out", self.frames_out_curve)):
            curve.setPen(pg.mkPen(self._colour(name), width=1))
        for name, curve in (("bytes_in", self.bytes_in_curve), ("bytes_out", self.bytes_out_curve)):
            curve.setPen(pg.mkPen(self._colour(name), width=1, style=Qt.PenStyle.DashLine))
        for marker in self._markers:
            marker.setPen(pg.mkPen(self._colour(marker.kind), width=1))

    def plot_background(self) -> QColor:
        """The colour the plots are drawn on."""
        return self.graphics.backgroundBrush().color()
