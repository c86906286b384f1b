"""A one-line message inside a layout (an inline error, a status) that never moves what is around it: it keeps its
place while hidden, takes the width its layout gives it, and cuts a longer text with "…" (the whole text is its
tooltip, and what ``text()`` returns)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A single line, elided to its width; hidden, it still holds its place."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # type: ignore[override]
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:  # type: ignore[override]
        return self._full

    def clear(self) -> None:
        self.setText("")

    def sizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        line = " ".join(self._full.split("\n"))
        QLabel.setText(self, self.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, max(self.width(), 0)))
