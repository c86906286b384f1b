"""The message line above the pages: errors, warnings and notices, dismissable.

Its place is kept while it is empty (``BannerSlot``): a message appearing or going never moves the controls under
the mouse. A message longer than the slot scrolls inside it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QToolButton, QWidget

from wsinspector.ui import palette

#: lines of text the banner shows without scrolling
LINES = 2
_PADDING = 6


def banner_style(level: str, dark: bool | None = None) -> str:
    """The label's style sheet for a message of ``level`` ("error", "warning", "info") in the current scheme."""
    c = palette.colours(dark)
    return (f"background: {c[f'banner_{level}_bg']}; color: {c[f'banner_{level}_fg']}; "
            f"border: 1px solid {c[f'banner_{level}_border']}; border-radius: 4px; padding: {_PADDING}px;")


class Banner(QWidget):
    """A dismissable message above the pages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what servers sent
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("bannerScroll")
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        close = QToolButton(text="✕", autoRaise=True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.action = QPushButton()
        self.action.setObjectName("bannerAction")
        self.action.hide()
        self.action.clicked.connect(self._on_action)
        self._callback: Callable[[], object] | None = None
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.action, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show ``text``; with ``action`` (label, callback), a button beside it that runs the callback and
        dismisses the message."""
        self.level = level
        self.label.setText(text)
        palette.style(self.label, lambda: banner_style(level))
        self.label.setToolTip(text if text.count("\n") >= LINES else "")
        self._callback = action[1] if action else None
        self.action.setText(action[0] if action else "")
        self.action.setVisible(action is not None)
        self.scroll.verticalScrollBar().setValue(0)
        self.show()

    def clear(self) -> None:
        self.level = ""
        self.label.clear()
        self._callback = None
        self.action.hide()
        self.hide()

    def _on_action(self) -> None:
        callback = self._callback
        self.clear()
        if callback is not None:
            callback()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class BannerSlot(QWidget):
    """The banner's place in the window: as high as ``LINES`` lines of a message whether one shows or not."""

    def __init__(self, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bannerSlot")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(banner)
        self.banner = banner
        self._fit()

    def _fit(self) -> None:
        lines = self.fontMetrics().lineSpacing() * LINES
        self.setFixedHeight(lines + 2 * _PADDING + 4)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()
