"""The one-line message above the pages: errors, warnings and notices, dismissable."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

_BANNER_STYLE = {
    "error": "background: #fde7e9; color: #8c0010; border: 1px solid #f1b0b7; border-radius: 4px; padding: 6px;",
    "warning": "background: #fff4ce; color: #5c4400; border: 1px solid #f0d77b; border-radius: 4px; padding: 6px;",
    "info": "background: #e7f1fd; color: #0b3d75; border: 1px solid #b0cdf1; border-radius: 4px; padding: 6px;",
}


class Banner(QWidget):
    """A dismissable one-line message above the timeline."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what servers sent
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(close)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show ``text``; with ``action`` (label, callback), a button beside it that runs the callback and
        dismisses the message."""
        self.level = level
        self.label.setText(text)
        self.label.setStyleSheet(_BANNER_STYLE[level])
        self._callback = action[1] if action else None
        self.action.setText(action[0] if action else "")
        self.action.setVisible(action is not None)
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
