"""Pages built the first time they are needed, so that what they import stays out of the start-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from wsinspector.core.events import EVENT_KINDS

if TYPE_CHECKING:
    from wsinspector.core.rates import Rates
    from wsinspector.core.session import Session


class LazyPage(QWidget):
    """A tab page whose content ``factory()`` makes when the page is first shown or ``content()`` is asked for.

    ``loaded`` says whether that happened.
    """

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._content: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def loaded(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        if self._content is None:
            self._content = self._factory()
            self.layout().addWidget(self._content)
            self._content.show()  # a child added to a shown page stays hidden until told
        return self._content

    def showEvent(self, event: QShowEvent) -> None:
        self.content()
        super().showEvent(event)


class HealthPage(LazyPage):
    """The Health tab: the latency graph of the session the timeline shows, live or stored.

    The graph (pyqtgraph and numpy) is built when the page is first shown. What it is given before then is
    kept in order and handed over at that moment, so the graph shows the whole session either way.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self._make_graph, parent)
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._source: Session | None = None
        self._live = False
        self._samples = 0

    # -- the session shown -------------------------------------------------------------------------------

    def show_session(self, source: Session, live: bool) -> None:
        """Draw ``source`` from its start: its RTTs and connection events. A live one grows through
        ``follow``, ``add_event`` and ``add_rates``; those are ignored while a stored session is shown."""
        self._source, self._live = source, live
        self.clear()
        samples = source.rtt_samples
        self._samples = len(samples)
        start = source.started_ns
        self.set_rtts([(ts - start) / 1e9 for _, ts, _ in samples], [rtt / 1e6 for _, _, rtt in samples])
        for ts, kind, text in source.events:
            if kind in EVENT_KINDS:  # a session from a newer version (or a damaged one) may hold others
                self.add_marker((ts - start) / 1e9, kind, text)

    def follow(self) -> None:
        """Add the RTTs the live session measured since the last call."""
        source = self._source
        if not self._live or source is None:
            return
        samples = source.rtt_samples
        if len(samples) > self._samples:
            new = samples[self._samples:]
            self._samples = len(samples)
            self.add_rtts([(ts - source.started_ns) / 1e9 for _, ts, _ in new], [rtt / 1e6 for _, _, rtt in new])

    def add_event(self, ts_ns: int, kind: str, text: str) -> None:
        """A connection event of the live session (monotonic ns)."""
        if self._live and self._source is not None and kind in EVENT_KINDS:
            self.add_marker((ts_ns - self._source.started_ns) / 1e9, kind, text)

    def show_rates(self, rates: Rates, t_s: float) -> None:
        """The live session's rates at ``t_s`` seconds after it began."""
        if self._live:
            self.add_rates(t_s, rates.frames_in, rates.frames_out, rates.bytes_in, rates.bytes_out)

    # -- the graph ------------------------------------------------------------------------------------------

    def _make_graph(self) -> QWidget:
        from wsinspector.ui.latency_graph import LatencyGraph  # noqa: PLC0415  (pyqtgraph: only when shown)

        graph = LatencyGraph()
        graph.setObjectName("latencyGraph")
        pending, self._pending = self._pending, []
        for name, args in pending:
            getattr(graph, name)(*args)
        return graph

    def _call(self, name: str, *args: Any) -> None:
        if self._content is not None:
            getattr(self._content, name)(*args)
        elif name == "clear":
            self._pending.clear()
        else:
            self._pending.append((name, args))

    def clear(self) -> None:
        self._call("clear")

    def set_rtts(self, t_s: Sequence[float], rtt_ms: Sequence[float]) -> None:
        self._call("set_rtts", t_s, rtt_ms)

    def add_rtts(self, t_s: Sequence[float], rtt_ms: Sequence[float]) -> None:
        self._call("add_rtts", t_s, rtt_ms)

    def add_marker(self, t_s: float, kind: str, label: str = "") -> None:
        self._call("add_marker", t_s, kind, label)

    def add_rates(self, t_s: float, frames_in: float, frames_out: float, bytes_in: float, bytes_out: float) -> None:
        self._call("add_rates", t_s, frames_in, frames_out, bytes_in, bytes_out)

    def stop(self) -> None:
        if self._content is not None:
            self._content.stop()  # type: ignore[attr-defined]
