"""Pages built the first time they are needed, so that what they import stays out of the start-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget


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
    """The Health tab: the latency graph (pyqtgraph and numpy) is built when the page is first shown. What
    the window gives it before then is kept in order and handed over at that moment, so the graph shows the
    whole session either way."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self._make_graph, parent)
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

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
